package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.bench.Machine;
import dev.cnnzoo.serve.LoadGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

@Command(name = "serve-bench", description = {"Load a running `zoo serve` (or any Open Inference Protocol server) with concurrent infer "
        + "requests of random input: latency p50/p90/p99, throughput, statuses, and the server's batch sizes from /metrics.",
        "Compare with `zoo bench MODEL --batch B` at the server's --max-batch."})
final class ServeBenchCommand implements Callable<Integer> {
    @Parameters(paramLabel = "MODEL", description = "The served model's name.")
    String model;

    @Option(names = "--url", paramLabel = "URL", defaultValue = "http://127.0.0.1:8080/", description = "The server (default ${DEFAULT-VALUE}).")
    String url;

    @Option(names = "--clients", paramLabel = "C", defaultValue = "32", description = "Concurrent clients (default ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--requests", paramLabel = "N", defaultValue = "200", description = "Requests per client, one after another (default ${DEFAULT-VALUE}).")
    int requests;

    @Option(names = "--rows", paramLabel = "R", defaultValue = "1", description = "Images per request (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--timeout-s", paramLabel = "S", defaultValue = "60", description = "Per-request timeout in seconds (default ${DEFAULT-VALUE}).")
    int timeout;

    @Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public Integer call() throws InterruptedException {
        if (clients < 1 || requests < 1 || rows < 1 || timeout < 1) {
            throw new ZooException("--clients, --requests, --rows and --timeout-s must be at least 1");
        }
        URI server = URI.create(url.endsWith("/") ? url : url + "/");
        PrintWriter out = spec.commandLine().getOut();
        out.println("# " + Machine.current().describe());
        out.println("# cpu flags: " + LoadGenerator.cpuFlags());
        LoadGenerator.Report report;
        LoadGenerator.BatchStats before;
        LoadGenerator.BatchStats after;
        try {
            before = LoadGenerator.batchStats(server, model);
            report = LoadGenerator.run(new LoadGenerator.Settings(server, model, clients, requests, rows, Duration.ofSeconds(timeout)));
            after = LoadGenerator.batchStats(server, model);
        } catch (IOException e) {
            throw new ZooException("cannot reach the server at " + server + ": " + e, e);
        }
        out.print(report.describe());
        long batches = after.batches() - before.batches();
        if (batches > 0) {
            out.printf(Locale.ROOT, "server: %d batches, mean %.2f rows, %d of more than one row%n", batches,
                    (after.rows() - before.rows()) / batches, after.multi() - before.multi());
        }
        out.flush();
        return report.succeeded() == report.sent() ? 0 : 1;
    }
}
