// Prints jest's JSON result as one closing line CI can read: "tests: N passed, N failed, N skipped".
const fs = require('fs');
const file = process.argv[2];
let r;
try {
  r = JSON.parse(fs.readFileSync(file, 'utf8'));
} catch (e) {
  console.log(`tests: 0 passed, 1 failed (no result file ${file}: ${e.message})`);
  process.exit(1);
}
for (const suite of r.testResults) {
  if (suite.status === 'failed') console.log(`FAILED ${suite.name}\n${suite.message}`);
}
console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests + r.numTodoTests} skipped`);
if (r.numTotalTests === 0) {
  console.log('no test ran');
  process.exit(1);
}
