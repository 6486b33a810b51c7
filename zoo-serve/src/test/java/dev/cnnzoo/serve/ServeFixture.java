package dev.cnnzoo.serve;

import ai.onnx.proto.OnnxMl;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.onnx.ExportOptions;
import dev.cnnzoo.onnx.ModelExporter;
import dev.cnnzoo.runtime.RuntimeOptions;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/** What the server tests share: the zoo, fashion-cnn with its pretrained weights, an HTTP client. */
final class ServeFixture {
    static final ObjectMapper JSON = new ObjectMapper();
    static final ModelZoo ZOO = ModelZoo.load();
    static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(10)).build();

    private ServeFixture() {
    }

    static Model fashionCnn() {
        return ZOO.build("fashion-cnn");
    }

    static Weights pretrained(Model model) {
        return ZOO.pretrained(model.id()).bind(model.graph());
    }

    /** fashion-cnn with the zoo's Fashion-MNIST weights and their class names, as {@code zoo serve fashion-cnn --weights pretrained} serves it. */
    static ServedModel servedFashionCnn() {
        Model m = fashionCnn();
        return ServedModel.zoo(m, pretrained(m), ZOO.pretrainedInfo(m.id()).orElseThrow().labels(), "pretrained weights");
    }

    /** On a free loopback port, one ONNX Runtime thread per session (the machine is shared). */
    static ServeOptions options() {
        return ServeOptions.defaults().port(0).runtime(RuntimeOptions.cpu(1));
    }

    /**
     * lenet5 with seeded weights as an ONNX file whose batch dimension is fixed at 1, as some
     * exporters write them.
     */
    static Path fixedBatchOnnx(Path dir) throws IOException {
        Model m = ZOO.build("lenet5");
        OnnxMl.ModelProto proto = OnnxMl.ModelProto.parseFrom(ModelExporter.toBytes(m, Weights.initial(m.graph(), 1), ExportOptions.defaults()));
        OnnxMl.ModelProto.Builder b = proto.toBuilder();
        OnnxMl.GraphProto.Builder g = b.getGraphBuilder();
        for (OnnxMl.ValueInfoProto.Builder v : g.getInputBuilderList()) {
            v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimParam().setDimValue(1);
        }
        for (OnnxMl.ValueInfoProto.Builder v : g.getOutputBuilderList()) {
            v.getTypeBuilder().getTensorTypeBuilder().getShapeBuilder().getDimBuilder(0).clearDimParam().setDimValue(1);
        }
        Path file = dir.resolve("lenet5-fixed.onnx");
        Files.write(file, b.build().toByteArray());
        return file;
    }

    record Reply(int status, String contentType, String body) {
        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new UncheckedIOException("not JSON (" + status + "): " + body, e);
            }
        }
    }

    static Reply get(URI uri) {
        return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).GET().build());
    }

    static Reply post(URI uri, byte[] body, String contentType) {
        return send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(60)).header("Content-Type", contentType)
                .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build());
    }

    static Reply postJson(URI uri, Object body) {
        try {
            return post(uri, JSON.writeValueAsBytes(body), "application/json");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Reply send(HttpRequest request) {
        try {
            HttpResponse<String> r = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            return new Reply(r.statusCode(), r.headers().firstValue("Content-Type").orElse(""), r.body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
