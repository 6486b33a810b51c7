package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.bench.Benchmark;
import dev.cnnzoo.runtime.bench.Latencies;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * PyTorch's side of {@code zoo bench --vs-pytorch}: the script {@code pytorch_bench.py} (shipped in
 * this jar) times the same networks in PyTorch eager mode with the same threads, warm-up and runs.
 */
final class PyTorchBench {
    /** Where Debian's python3-torch lives; a python3 earlier on the PATH may lack torch. */
    static final Path DEBIAN_PYTHON = Path.of("/usr/bin/python3");
    private static final String SCRIPT = "pytorch_bench.py";

    /**
     * One model at one batch in PyTorch; its process's peak resident bytes (null where Linux's VmHWM is
     * not at hand); the BLAS its dense layers called ("OpenBLAS", "MKL", "reference BLAS", ...).
     */
    record Result(String model, int batch, Latencies latencies, String torchVersion, int threads, String blas, Long peakResident) {
        /** What the comparison row names: version, threads and BLAS. */
        String detail() {
            return "torch " + torchVersion + ", " + threads + "t, " + blas;
        }

        /**
         * Debian's torch calls whatever libblas.so.3 points at, the netlib reference BLAS unless an
         * optimised one is installed: its dense layers then run at a thirtieth of their speed, and a
         * comparison with it flatters the zoo.
         */
        boolean handicapped() {
            return blas.equals("reference BLAS");
        }
    }

    /** The line {@code zoo bench} prints when PyTorch's side ran on the reference BLAS. */
    static final String REFERENCE_BLAS_WARNING = "PyTorch's dense layers ran on the reference BLAS (netlib libblas3, tens of times slower than "
            + "an optimised one), which flatters the zoo; install libopenblas0-openmp (Debian) for a fair comparison";

    private PyTorchBench() {
    }

    static String defaultPython() {
        return Files.isExecutable(DEBIAN_PYTHON) ? DEBIAN_PYTHON.toString() : "python3";
    }

    /**
     * Times {@code model}'s PyTorch peer: the script's own definition where no library has the
     * network (LeNet-5 and the Fashion-MNIST CNN), else its torchvision or timm counterpart as the
     * model's metadata names it, at the model's default input.
     *
     * @param profile a folder for PyTorch's profile of each batch (ID-bB-pytorch.txt), or null
     */
    static List<Result> run(String python, ModelInfo model, List<Integer> batches, int threads, Benchmark.Plan plan, boolean train,
            String optimizer, double learningRate, Path profile) {
        Path script = null;
        Path err = null;
        try {
            script = Files.createTempFile("zoo-pytorch-bench-", ".py");
            try (InputStream in = PyTorchBench.class.getResourceAsStream(SCRIPT)) {
                if (in == null) {
                    throw new ZooException("the resource " + SCRIPT + " is missing from zoo-cli's jar");
                }
                Files.write(script, in.readAllBytes());
            }
            int[] input = model.inputShape();
            List<String> cmd = new ArrayList<>(List.of(python, script.toString(), "--model", model.id(),
                    "--input", input[0] + "," + input[1] + "," + input[2],
                    "--counterparts", new ObjectMapper().writeValueAsString(model.describe().get("counterparts")),
                    "--batch", batches.stream().map(String::valueOf).collect(Collectors.joining(",")),
                    "--threads", Integer.toString(threads), "--warmup", Integer.toString(plan.warmup()),
                    "--iters", Integer.toString(plan.iterations()), "--budget", Double.toString(plan.budgetSeconds())));
            if (train) {
                cmd.addAll(List.of("--train", "--optimizer", optimizer, "--lr", Double.toString(learningRate)));
            }
            if (profile != null) {
                cmd.addAll(List.of("--profile", profile.toString()));
            }
            err = Files.createTempFile("zoo-pytorch-bench-", ".err");
            Process p;
            try {
                ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(err.toFile());
                withDefaultMalloc(pb.environment());
                p = pb.start();
            } catch (IOException e) {
                throw new ZooException("cannot start " + python + " for --vs-pytorch (" + e.getMessage() + "); give the interpreter that has "
                        + "torch and torchvision with --python");
            }
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            int exit = p.waitFor();
            if (exit != 0) {
                List<String> lines = Files.readAllLines(err);
                String last = lines.isEmpty() ? "no message" : lines.get(lines.size() - 1);
                throw new ZooException("the PyTorch benchmark (" + python + ") failed: " + last);
            }
            ObjectMapper json = new ObjectMapper();
            List<Result> results = new ArrayList<>();
            for (String line : out.lines().filter(l -> l.startsWith("{")).toList()) {
                JsonNode n = json.readTree(line);
                if (n.has("missing")) {
                    throw new ZooException(n.get("missing").asText());
                }
                double[] millis = new double[n.get("millis").size()];
                for (int i = 0; i < millis.length; i++) {
                    millis[i] = n.get("millis").get(i).asDouble();
                }
                JsonNode peak = n.path("peak_resident_bytes");
                results.add(new Result(n.get("model").asText(), n.get("batch").asInt(), new Latencies(millis), n.get("torch").asText(),
                        n.get("threads").asInt(), n.path("blas").asText("BLAS unknown"), peak.isNumber() ? peak.asLong() : null));
            }
            return results;
        } catch (IOException e) {
            throw new ZooException("the PyTorch benchmark failed: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ZooException("interrupted while PyTorch ran");
        } finally {
            deleteQuietly(script);
            deleteQuietly(err);
        }
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file left behind is harmless
            }
        }
    }

    /**
     * Takes out the glibc mmap threshold the {@code zoo} launcher set for the zoo's own process
     * (its ZOO_SET_MALLOC_MMAP_THRESHOLD says it did), so that PyTorch runs with glibc's default,
     * as its users run it. A threshold the user set stays, for both sides.
     */
    static void withDefaultMalloc(Map<String, String> environment) {
        if ("1".equals(environment.remove("ZOO_SET_MALLOC_MMAP_THRESHOLD"))) {
            environment.remove("MALLOC_MMAP_THRESHOLD_");
        }
    }
}
