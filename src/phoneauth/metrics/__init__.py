"""Prometheus metrics: the adapter behind the domain's `Metrics` port, the HTTP request counts,
and the exposition `GET /metrics` answers with (one process, or every worker of
`phoneauth serve --workers N` summed through prometheus_client's multiprocess mode)."""

from phoneauth.metrics.prometheus import PrometheusMetrics

__all__ = ["PrometheusMetrics"]
