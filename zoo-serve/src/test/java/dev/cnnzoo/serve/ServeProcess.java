package dev.cnnzoo.serve;

import java.time.Duration;
import java.util.List;

/**
 * A server in a JVM of its own, as {@code zoo serve fashion-cnn --weights pretrained} runs it:
 * prints its port, serves until SIGTERM, stops gracefully and exits 0. Arguments: the batch limit
 * and the batching delay in milliseconds.
 */
public final class ServeProcess {
    private ServeProcess() {
    }

    public static void main(String[] args) {
        ServeOptions options = ServeFixture.options().maxBatch(Integer.parseInt(args[0])).maxDelay(Duration.ofMillis(Long.parseLong(args[1])));
        ModelServer server = ModelServer.start(List.of(ServeFixture.servedFashionCnn()), options, ServeFixture.ZOO, BenchFigures.none());
        System.out.println("port " + server.port());
        System.out.flush();
        server.serveUntilSignalled();
        System.out.println("stopped");
        System.exit(0);
    }
}
