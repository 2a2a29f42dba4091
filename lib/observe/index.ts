// Seeing a running network: Prometheus metrics, the operations HTTP port and its live page.
export { networkMetrics, type NetworkMetricsOptions } from './metrics';
export { startOpsServer, parseListen, type OpsServer, type OpsServerOptions } from './server';
export { dotToSvg } from './svg';
export { livePage } from './page';
