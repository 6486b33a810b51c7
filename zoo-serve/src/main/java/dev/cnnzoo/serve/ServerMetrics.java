package dev.cnnzoo.serve;

import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.io.IOException;
import java.io.OutputStream;

/**
 * The server's Prometheus metrics, in a registry of its own (two servers in one JVM, as in the
 * tests, do not share counts). Label values are bounded: {@code model} is a served model's name or
 * empty (a request for an unknown name must not create a series per name it invents).
 */
public final class ServerMetrics {
    /** Prometheus's text exposition format, version 0.0.4. */
    public static final String CONTENT_TYPE = PrometheusTextFormatWriter.CONTENT_TYPE;

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter requests = Counter.builder().name("zoo_requests_total")
            .help("HTTP requests answered, by model (empty when none or unknown), endpoint and status code")
            .labelNames("model", "endpoint", "code").register(registry);
    private final Counter errors = Counter.builder().name("zoo_request_errors_total")
            .help("HTTP requests answered with a 4xx or 5xx status, by model, endpoint and status code")
            .labelNames("model", "endpoint", "code").register(registry);
    private final Histogram requestSeconds = Histogram.builder().name("zoo_request_duration_seconds")
            .help("Time from a request's arrival to its response, by model and endpoint").classicOnly()
            .classicUpperBounds(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
            .labelNames("model", "endpoint").register(registry);
    private final Histogram queueWait = Histogram.builder().name("zoo_queue_wait_seconds")
            .help("Time a request waited in its model's queue before its batch ran").classicOnly()
            .classicUpperBounds(0.0001, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5)
            .labelNames("model").register(registry);
    private final Histogram inferenceSeconds = Histogram.builder().name("zoo_inference_duration_seconds")
            .help("ONNX Runtime's time for one batch").classicOnly()
            .classicUpperBounds(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)
            .labelNames("model").register(registry);
    private final Histogram batchSize = Histogram.builder().name("zoo_batch_size")
            .help("Rows (images) per batch run").classicOnly()
            .classicUpperBounds(1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128)
            .labelNames("model").register(registry);
    private final Gauge queueDepth = Gauge.builder().name("zoo_queue_depth")
            .help("Requests waiting for their batch to run (queued, or gathered into the batch being formed)").labelNames("model").register(registry);

    /** One answered request. */
    void request(String model, String endpoint, int status, double seconds) {
        String code = Integer.toString(status);
        requests.labelValues(model, endpoint, code).inc();
        if (status >= 400) {
            errors.labelValues(model, endpoint, code).inc();
        }
        requestSeconds.labelValues(model, endpoint).observe(seconds);
    }

    /** What one model's batcher records. */
    BatchMetrics forModel(String model) {
        return new BatchMetrics(queueWait.labelValues(model), inferenceSeconds.labelValues(model), batchSize.labelValues(model),
                queueDepth.labelValues(model));
    }

    /** A model's batching figures. */
    record BatchMetrics(io.prometheus.metrics.core.datapoints.DistributionDataPoint queueWait,
            io.prometheus.metrics.core.datapoints.DistributionDataPoint inference,
            io.prometheus.metrics.core.datapoints.DistributionDataPoint batchSize,
            io.prometheus.metrics.core.datapoints.GaugeDataPoint queueDepth) {
        /** Figures that go nowhere (a batcher used without a server). */
        static BatchMetrics none() {
            return new ServerMetrics().forModel("");
        }
    }

    /** Every metric in the text exposition format. */
    public void write(OutputStream out) throws IOException {
        PrometheusTextFormatWriter.create().write(out, registry.scrape(), EscapingScheme.DEFAULT);
    }
}
