package dev.cnnzoo.serve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.bench.Latencies;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;

/**
 * A load generator for a model served with the Open Inference Protocol (this server or any
 * other): {@code clients} threads, each sending {@code requests} {@code infer} requests one after
 * another through the JDK's {@link HttpClient}, with random inputs of the model's input shape
 * ({@code rows} rows each). It reports every response's status, the latency percentiles and the
 * throughput. The work is bounded by the request count and each request's timeout.
 */
public final class LoadGenerator {
    /**
     * @param server  the server's base address, {@code http://127.0.0.1:8080/}
     * @param rows    rows (images) per request
     * @param timeout the most one request may take before it counts as failed
     */
    public record Settings(URI server, String model, int clients, int requests, int rows, Duration timeout) {
        public Settings {
            if (clients < 1 || requests < 1 || rows < 1) {
                throw new IllegalArgumentException("clients, requests and rows must be at least 1");
            }
        }
    }

    /**
     * What a run saw.
     *
     * @param statuses    responses by HTTP status
     * @param transport   requests that got no response (refused, reset, timed out)
     * @param errors      the first few error messages, for people
     * @param latencies   the successful requests' times, in milliseconds
     * @param seconds     the run's wall time
     */
    public record Report(Settings settings, Map<Integer, Integer> statuses, int transport, List<String> errors, Latencies latencies,
            double seconds) {
        public int succeeded() {
            return statuses.getOrDefault(200, 0);
        }

        public int sent() {
            return settings.clients() * settings.requests();
        }

        public double requestsPerSecond() {
            return succeeded() / seconds;
        }

        public double imagesPerSecond() {
            return requestsPerSecond() * settings.rows();
        }

        /** Lines for people: totals, percentiles, throughput. */
        public String describe() {
            StringBuilder sb = new StringBuilder();
            sb.append(String.format(Locale.ROOT, "%s: %d clients × %d requests of %d row(s) in %.1f s; statuses %s, %d without a response%n",
                    settings.model(), settings.clients(), settings.requests(), settings.rows(), seconds, statuses, transport));
            if (latencies != null) {
                sb.append(String.format(Locale.ROOT, "latency ms: p50 %.2f  p90 %.2f  p99 %.2f  max %.2f; %.1f requests/s, %.1f images/s%n",
                        latencies.p50(), latencies.p90(), latencies.p99(), Arrays.stream(latencies.millis()).max().orElse(0),
                        requestsPerSecond(), imagesPerSecond()));
            }
            errors.forEach(e -> sb.append("error: ").append(e).append('\n'));
            return sb.toString();
        }
    }

    /** What the server's {@code /metrics} say about a model's batches (this server's metric names). */
    public record BatchStats(long batches, double rows, long single) {
        public double meanBatch() {
            return batches == 0 ? 0 : rows / batches;
        }

        /** Batches that held more than one row. */
        public long multi() {
            return batches - single;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private LoadGenerator() {
    }

    public static Report run(Settings s) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(s.timeout()).build();
        List<byte[]> bodies = bodies(http, s);
        URI infer = s.server().resolve("v2/models/" + s.model() + "/infer");
        ExecutorService pool = Executors.newFixedThreadPool(s.clients(), r -> {
            Thread t = new Thread(r, "load-client");
            t.setDaemon(true);
            return t;
        });
        record ClientResult(List<Double> millis, Map<Integer, Integer> statuses, int transport, List<String> errors) {
        }
        List<Future<ClientResult>> futures = new ArrayList<>();
        long start = System.nanoTime();
        for (int c = 0; c < s.clients(); c++) {
            final int client = c;
            futures.add(pool.submit(() -> {
                List<Double> millis = new ArrayList<>();
                Map<Integer, Integer> statuses = new TreeMap<>();
                List<String> errors = new ArrayList<>();
                int transport = 0;
                for (int i = 0; i < s.requests(); i++) {
                    byte[] body = bodies.get((client + i) % bodies.size());
                    HttpRequest req = HttpRequest.newBuilder(infer).timeout(s.timeout()).header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
                    long t0 = System.nanoTime();
                    try {
                        HttpResponse<String> r = http.send(req, HttpResponse.BodyHandlers.ofString());
                        statuses.merge(r.statusCode(), 1, Integer::sum);
                        if (r.statusCode() == 200) {
                            millis.add((System.nanoTime() - t0) / 1e6);
                        } else if (errors.size() < 3) {
                            errors.add(r.statusCode() + " " + r.body());
                        }
                    } catch (IOException e) {
                        transport++;
                        if (errors.size() < 3) {
                            errors.add(e.toString());
                        }
                    }
                }
                return new ClientResult(millis, statuses, transport, errors);
            }));
        }
        pool.shutdown();
        Map<Integer, Integer> statuses = new TreeMap<>();
        List<Double> millis = new ArrayList<>();
        List<String> errors = new ArrayList<>();
        int transport = 0;
        try {
            for (Future<ClientResult> f : futures) {
                ClientResult r = f.get();
                millis.addAll(r.millis());
                r.statuses().forEach((k, v) -> statuses.merge(k, v, Integer::sum));
                transport += r.transport();
                r.errors().stream().limit(Math.max(0, 5 - errors.size())).forEach(errors::add);
            }
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("a load client failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        Latencies lat = millis.isEmpty() ? null : new Latencies(millis.stream().mapToDouble(Double::doubleValue).toArray());
        return new Report(s, statuses, transport, errors, lat, seconds);
    }

    /** A few different request bodies of random values in [0, 1), shaped as the model's metadata says. */
    private static List<byte[]> bodies(HttpClient http, Settings s) throws IOException, InterruptedException {
        URI meta = s.server().resolve("v2/models/" + s.model());
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(meta).timeout(s.timeout()).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new ZooException("the server at " + s.server() + " answered " + r.statusCode() + " for model " + s.model() + ": " + r.body());
        }
        JsonNode inputs = JSON.readTree(r.body()).path("inputs");
        SplittableRandom random = new SplittableRandom(42);
        List<byte[]> bodies = new ArrayList<>();
        for (int b = 0; b < 8; b++) {
            List<Map<String, Object>> tensors = new ArrayList<>();
            for (JsonNode in : inputs) {
                long[] shape = new long[in.get("shape").size()];
                for (int i = 0; i < shape.length; i++) {
                    long d = in.get("shape").get(i).asLong();
                    if (d < 0 && i > 0) {
                        throw new ZooException("input " + in.get("name").asText() + " has a variable dimension " + i + "; the load generator "
                                + "fills the batch dimension only");
                    }
                    shape[i] = d < 0 ? s.rows() : d;
                }
                long n = Arrays.stream(shape).reduce(1, Math::multiplyExact);
                String type = in.get("datatype").asText();
                Object data = switch (type) {
                    case "FP32" -> {
                        float[] a = new float[Math.toIntExact(n)];
                        for (int i = 0; i < a.length; i++) {
                            a[i] = (float) random.nextDouble();
                        }
                        yield a;
                    }
                    case "INT64" -> new long[Math.toIntExact(n)];
                    default -> throw new ZooException("input " + in.get("name").asText() + " is " + type + "; the load generator feeds FP32 and INT64");
                };
                Map<String, Object> t = new LinkedHashMap<>();
                t.put("name", in.get("name").asText());
                t.put("shape", shape);
                t.put("datatype", type);
                t.put("data", data);
                tensors.add(t);
            }
            bodies.add(JSON.writeValueAsBytes(Map.of("inputs", tensors)));
        }
        return bodies;
    }

    /** The batch-size histogram a server of this module exposes for {@code model}. */
    public static BatchStats batchStats(URI server, String model) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        String text = http.send(HttpRequest.newBuilder(server.resolve("metrics")).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        String label = "model=\"" + model + "\"";
        long count = 0;
        double sum = 0;
        long single = 0;
        for (String line : text.lines().toList()) {
            if (!line.startsWith("zoo_batch_size") || !line.contains(label)) {
                continue;
            }
            String value = line.substring(line.lastIndexOf(' ') + 1);
            if (line.startsWith("zoo_batch_size_count")) {
                count = (long) Double.parseDouble(value);
            } else if (line.startsWith("zoo_batch_size_sum")) {
                sum = Double.parseDouble(value);
            } else if (line.startsWith("zoo_batch_size_bucket") && line.contains("le=\"1.0\"")) {
                single = (long) Double.parseDouble(value);
            }
        }
        return new BatchStats(count, sum, single);
    }

    /** The CPU's vector and matrix extensions (AVX-512, VNNI, AMX), for benchmark output. */
    public static String cpuFlags() {
        try {
            return Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8).stream().filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Arrays.stream(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))
                            .filter(f -> f.startsWith("avx") || f.startsWith("amx") || f.contains("vnni") || f.equals("fma"))
                            .collect(Collectors.joining(" ")))
                    .orElse("");
        } catch (IOException e) {
            return "";
        }
    }
}
