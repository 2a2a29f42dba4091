// Seeing a running network: Prometheus metrics, the operations HTTP port and its live page.
export { networkMetrics, type NetworkMetricsOptions } from './metrics';
