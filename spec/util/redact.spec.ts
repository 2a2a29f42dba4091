import { redactCredentials } from 'tributary';

describe('redactCredentials', () => {
  it.each([
    ['cannot reach amqp://app:s3cret@mq/?token=abc', 'cannot reach amqp://app:***@mq/?token=<redacted>'],
    ['Authorization: Bearer eyJhbGciOi', 'Authorization: Bearer <redacted>'],
    ['Authorization: Basic dXNlcjpwYXNz', 'Authorization: Basic <redacted>'],
    ["at 'mysql://root:hunter2@127.0.0.1:1/test' failed", "at 'mysql://root:***@127.0.0.1:1/test' failed"],
    ['a password with / and @: https://u:pa/ss@w@host/x', 'a password with / and @: https://u:***@host/x'],
    ['?a=1&api_key=zz&b=2 password=p secret=s', '?a=1&api_key=<redacted>&b=2 password=<redacted> secret=<redacted>'],
    ['no user info: https://example.org/a?b=c', 'no user info: https://example.org/a?b=c'],
    ['a user without password: mysql://root@db/x', 'a user without password: mysql://root@db/x'],
    ['{"msg":"url nats://a:b@n:4222\\" x"}', '{"msg":"url nats://a:***@n:4222\\" x"}'],
  ])('%s', (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
  });

  it('removes the given secrets wherever they are', () => {
    expect(redactCredentials('bot 123:abc said 123:abc', ['123:abc', undefined, ''])).toBe('bot <redacted> said <redacted>');
  });
});
