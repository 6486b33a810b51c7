package dev.cnnzoo.serve;

import static dev.cnnzoo.serve.ServeFixture.JSON;
import static dev.cnnzoo.serve.ServeFixture.get;
import static dev.cnnzoo.serve.ServeFixture.post;
import static dev.cnnzoo.serve.ServeFixture.postJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.InferenceSession;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.runtime.ZooSessions;
import dev.cnnzoo.testkit.Close;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every v2 endpoint's JSON, field by field, as the Open Inference Protocol's REST specification names them. */
class V2EndpointsTest {
    /** Large enough for a few fashion-cnn requests as JSON, small enough to exceed in a test. */
    static final long LIMIT = 256 << 10;

    @TempDir
    static Path dir;
    static ModelServer server;
    static URI base;

    @BeforeAll
    static void start() throws Exception {
        server = ModelServer.start(List.of(ServeFixture.servedFashionCnn(), ServedModel.onnx("lenet5-fixed", ServeFixture.fixedBatchOnnx(dir))),
                ServeFixture.options().maxRequestBytes(LIMIT), ServeFixture.ZOO, BenchFigures.none());
        base = server.uri();
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    private static Set<String> fields(JsonNode o) {
        Set<String> names = new TreeSet<>();
        o.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static float[] randomImages(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] a = new float[n * 28 * 28];
        for (int i = 0; i < a.length; i++) {
            a[i] = (float) r.nextDouble();
        }
        return a;
    }

    private static Map<String, Object> tensor(String name, long[] shape, String datatype, Object data) {
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("name", name);
        t.put("shape", shape);
        t.put("datatype", datatype);
        t.put("data", data);
        return t;
    }

    private static Map<String, Object> request(Map<String, Object> input) {
        return Map.of("inputs", List.of(input));
    }

    private static Map<String, Object> goodRequest() {
        return request(tensor("input", new long[] {1, 1, 28, 28}, "FP32", randomImages(1, 9)));
    }

    private static float[] floats(JsonNode data) {
        float[] a = new float[data.size()];
        for (int i = 0; i < a.length; i++) {
            a[i] = data.get(i).floatValue();
        }
        return a;
    }

    @Test
    void serverMetadataHasNameVersionAndExtensions() {
        ServeFixture.Reply r = get(base.resolve("v2"));
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("application/json"), r.contentType());
        JsonNode o = r.json();
        assertEquals(Set.of("name", "version", "extensions"), fields(o));
        assertEquals("cnn-zoo", o.get("name").asText());
        assertTrue(o.get("extensions").isArray());
        assertEquals("classify", o.get("extensions").get(0).asText());
    }

    @Test
    void healthEndpointsAnswerLiveAndReady() {
        ServeFixture.Reply live = get(base.resolve("v2/health/live"));
        assertEquals(200, live.status());
        assertEquals(Set.of("live"), fields(live.json()));
        assertTrue(live.json().get("live").asBoolean());
        ServeFixture.Reply ready = get(base.resolve("v2/health/ready"));
        assertEquals(200, ready.status());
        assertEquals(Set.of("ready"), fields(ready.json()));
        assertTrue(ready.json().get("ready").asBoolean());
    }

    @Test
    void modelMetadataListsInputsAndOutputsWithNamesDatatypesAndShapes() {
        JsonNode o = get(base.resolve("v2/models/fashion-cnn")).json();
        assertEquals(Set.of("name", "platform", "inputs", "outputs"), fields(o));
        assertEquals("fashion-cnn", o.get("name").asText());
        assertEquals("onnxruntime_onnx", o.get("platform").asText());
        JsonNode in = o.get("inputs").get(0);
        assertEquals(Set.of("name", "datatype", "shape"), fields(in));
        assertEquals("input", in.get("name").asText());
        assertEquals("FP32", in.get("datatype").asText());
        assertEquals("[-1,1,28,28]", in.get("shape").toString());
        JsonNode out = o.get("outputs").get(0);
        assertEquals(Set.of("name", "datatype", "shape"), fields(out));
        assertEquals("logits", out.get("name").asText());
        assertEquals("[-1,10]", out.get("shape").toString());

        JsonNode fixed = get(base.resolve("v2/models/lenet5-fixed")).json();
        assertEquals("[1,1,28,28]", fixed.get("inputs").get(0).get("shape").toString());
    }

    @Test
    void modelReadyNamesTheModel() {
        ServeFixture.Reply r = get(base.resolve("v2/models/fashion-cnn/ready"));
        assertEquals(200, r.status());
        assertEquals(Set.of("name", "ready"), fields(r.json()));
        assertEquals("fashion-cnn", r.json().get("name").asText());
        assertTrue(r.json().get("ready").asBoolean());
    }

    @Test
    void inferReturnsTheLogitsOfADirectOnnxRuntimeSession() {
        int n = 3;
        float[] images = randomImages(n, 7);
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("id", "request-42");
        req.put("inputs", List.of(tensor("input", new long[] {n, 1, 28, 28}, "FP32", images)));
        ServeFixture.Reply r = postJson(base.resolve("v2/models/fashion-cnn/infer"), req);
        assertEquals(200, r.status(), r.body());
        JsonNode o = r.json();
        assertEquals(Set.of("model_name", "id", "outputs"), fields(o));
        assertEquals("fashion-cnn", o.get("model_name").asText());
        assertEquals("request-42", o.get("id").asText());
        JsonNode out = o.get("outputs").get(0);
        assertEquals(Set.of("name", "shape", "datatype", "data"), fields(out));
        assertEquals("logits", out.get("name").asText());
        assertEquals("[3,10]", out.get("shape").toString());
        assertEquals("FP32", out.get("datatype").asText());

        Model m = ServeFixture.fashionCnn();
        try (InferenceSession direct = ZooSessions.open(m, ServeFixture.pretrained(m), RuntimeOptions.cpu(1))) {
            float[] expected = direct.run(Tensor.of(Shape.of(n, 1, 28, 28), images)).floats();
            Close.assertRelative("served logits vs a direct session", expected, floats(out.get("data")), 1e-6);
        }
    }

    @Test
    void nestedDataAndRequestedOutputsAreUnderstood() {
        float[] image = randomImages(1, 11);
        List<Object> rows = new ArrayList<>();
        for (int y = 0; y < 28; y++) {
            List<Float> row = new ArrayList<>();
            for (int x = 0; x < 28; x++) {
                row.add(image[y * 28 + x]);
            }
            rows.add(row);
        }
        Map<String, Object> nested = new LinkedHashMap<>();
        nested.put("inputs", List.of(tensor("input", new long[] {1, 1, 28, 28}, "FP32", List.of(List.of(rows)))));
        nested.put("outputs", List.of(Map.of("name", "logits")));
        JsonNode a = postJson(base.resolve("v2/models/fashion-cnn/infer"), nested).json();
        JsonNode b = postJson(base.resolve("v2/models/fashion-cnn/infer"), request(tensor("input", new long[] {1, 1, 28, 28}, "FP32", image))).json();
        assertFalse(a.has("id"), "no id was given, so none comes back");
        assertEquals(b.get("outputs").get(0).get("data"), a.get("outputs").get(0).get("data"));
    }

    @Test
    void aFixedBatchModelRunsItsOwnBatchSizeOnly() {
        Map<String, Object> one = request(tensor("input", new long[] {1, 1, 28, 28}, "FP32", randomImages(1, 3)));
        assertEquals(200, postJson(base.resolve("v2/models/lenet5-fixed/infer"), one).status());
        ServeFixture.Reply two = postJson(base.resolve("v2/models/lenet5-fixed/infer"),
                request(tensor("input", new long[] {2, 1, 28, 28}, "FP32", randomImages(2, 3))));
        assertEquals(400, two.status());
        assertTrue(two.json().get("error").asText().contains("[1, 1, 28, 28]"), two.body());
        assertEquals(1, server.models().get(1).maxBatch());
        assertEquals(8, server.models().get(0).maxBatch());
    }

    /** A bad request gets a 4xx and {"error": message} containing {@code says}; then a good request still works. */
    private static void refused(int status, String says, ServeFixture.Reply r) {
        assertEquals(status, r.status(), r.body());
        JsonNode o = r.json();
        assertEquals(Set.of("error"), fields(o), r.body());
        assertTrue(o.get("error").asText().contains(says), "'" + says + "' not in: " + o.get("error").asText());
        assertEquals(200, postJson(base.resolve("v2/models/fashion-cnn/infer"), goodRequest()).status(), "the server keeps serving");
    }

    @Test
    void aTooLargeBodySentWholeStillGetsItsAnswerOnAConnectionThatStaysOpen() throws Exception {
        // A client that writes all of its body before reading (as most do) must see the 413, not a reset;
        // the server reads and drops the excess, so the connection can carry the next request.
        try (Socket socket = new Socket(base.getHost(), base.getPort())) {
            socket.setSoTimeout(30_000);
            OutputStream out = socket.getOutputStream();
            byte[] body = new byte[(int) LIMIT + (1 << 20)];
            out.write(("POST /v2/models/fashion-cnn/infer HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
                    + "Content-Length: " + body.length + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.write("GET /v2/health/live HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            assertEquals("HTTP/1.1 413 Payload Too Large", in.readLine());
            long length = -1;
            for (String line = in.readLine(); !line.isEmpty(); line = in.readLine()) {
                assertFalse(line.equalsIgnoreCase("Connection: close"), "the drained connection is kept");
                if (line.regionMatches(true, 0, "Content-Length:", 0, 15)) {
                    length = Long.parseLong(line.substring(15).trim());
                }
            }
            char[] message = new char[(int) length];
            assertEquals(length, in.read(message, 0, message.length));
            assertTrue(new String(message).contains("at most " + LIMIT), new String(message));
            assertEquals("HTTP/1.1 200 OK", in.readLine(), "the next request on the same connection");
        }
    }

    @Test
    void badRequestsGetA4xxWithAMessageAndTheServerKeepsServing() throws Exception {
        URI infer = base.resolve("v2/models/fashion-cnn/infer");
        refused(400, "not valid JSON", post(infer, "{\"inputs\": [".getBytes(), "application/json"));
        refused(400, "\"inputs\"", postJson(infer, Map.of("input", List.of())));
        refused(400, "has shape [1, 1, 27, 28]", postJson(infer, request(tensor("input", new long[] {1, 1, 27, 28}, "FP32", new float[27 * 28]))));
        refused(400, "has shape [1, 28, 28]", postJson(infer, request(tensor("input", new long[] {1, 28, 28}, "FP32", new float[28 * 28]))));
        refused(400, "datatype INT64 but the model takes FP32",
                postJson(infer, request(tensor("input", new long[] {1, 1, 28, 28}, "INT64", new long[28 * 28]))));
        refused(400, "783 values", postJson(infer, request(tensor("input", new long[] {1, 1, 28, 28}, "FP32", new float[783]))));
        refused(400, "not a number", postJson(infer, request(tensor("input", new long[] {1, 1, 28, 28}, "FP32", List.of("a")))));
        refused(400, "no input named 'image'", postJson(infer, request(tensor("image", new long[] {1, 1, 28, 28}, "FP32", new float[784]))));
        refused(400, "no output named 'probs'", postJson(infer, Map.of("inputs", goodRequest().get("inputs"), "outputs", List.of(Map.of("name", "probs")))));
        refused(404, "no model named 'resnet50'", postJson(base.resolve("v2/models/resnet50/infer"), goodRequest()));
        refused(404, "no model named 'nope'", get(base.resolve("v2/models/nope")));
        refused(415, "not an image", post(base.resolve("v2/models/fashion-cnn/classify"), "plain text".getBytes(), "image/png"));
        refused(415, "cannot be decoded as an image", post(base.resolve("v2/models/fashion-cnn/classify"), "GIF89a, or so it says".getBytes(), "image/gif"));
        refused(400, "classify needs a zoo model", post(base.resolve("v2/models/lenet5-fixed/classify"), new byte[] {1}, "image/png"));
        refused(405, "use POST", get(infer));
        refused(404, "no such endpoint", get(base.resolve("v2/models/fashion-cnn/versions/1")));
        byte[] big = new byte[(int) LIMIT + 1];
        refused(413, "at most " + LIMIT, post(infer, big, "application/json"));
        // Without a Content-Length (chunked), the limit is enforced while reading.
        refused(413, "limit of " + LIMIT, ServeFixture.send(HttpRequest.newBuilder(infer).timeout(Duration.ofSeconds(30))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(big))).build()));

        String metrics = get(base.resolve("metrics")).body();
        assertTrue(metrics.contains("zoo_request_errors_total{code=\"400\",endpoint=\"infer\",model=\"fashion-cnn\"}"), metrics);
        assertTrue(metrics.contains("zoo_request_errors_total{code=\"404\",endpoint=\"infer\",model=\"\"}"), metrics);
        assertTrue(metrics.contains("zoo_requests_total{code=\"200\",endpoint=\"infer\",model=\"fashion-cnn\"}"), metrics);
    }

    @Test
    void metricsAreInPrometheusTextFormat() {
        postJson(base.resolve("v2/models/fashion-cnn/infer"), goodRequest());
        ServeFixture.Reply r = get(base.resolve("metrics"));
        assertEquals(200, r.status());
        assertTrue(r.contentType().startsWith("text/plain; version=0.0.4"), r.contentType());
        for (String family : List.of("zoo_requests_total", "zoo_request_errors_total", "zoo_queue_wait_seconds", "zoo_inference_duration_seconds",
                "zoo_batch_size", "zoo_request_duration_seconds")) {
            assertTrue(r.body().contains("# TYPE " + family + " "), family + " in\n" + r.body());
        }
        Iterator<String> lines = r.body().lines().filter(l -> l.startsWith("zoo_batch_size_count{model=\"fashion-cnn\"}")).iterator();
        assertTrue(lines.hasNext(), r.body());
        assertTrue(Double.parseDouble(lines.next().split(" ")[1]) >= 1);
    }
}
