package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cnnzoo.io.AtomicFile;
import dev.cnnzoo.runtime.bench.Latencies;
import dev.cnnzoo.runtime.bench.Machine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.style.Styler;

/** What {@code zoo bench} measured, as a table, CSV, JSON and a chart. */
final class BenchReport {
    /** The FLOP convention, printed under every table and kept in the JSON. */
    static final String FLOPS_NOTE = "GFLOP/s counts 2 FLOPs per multiply-accumulate of the model summary's MACs (convolutions and dense "
            + "layers; a training step as 3× the forward pass); img/s = batch ÷ p50; warm-up runs are not timed; zoo÷this is, for "
            + "--vs, the median over rounds of the zoo's time over the file's in the same round (their runs alternate), for PyTorch "
            + "the ratio of the medians; RSS÷this is the zoo's peak resident memory over PyTorch's, each in its own process.";

    /**
     * One measurement.
     *
     * @param name          the model id, or the file's name for a file benchmarked alone
     * @param source        "zoo" (a zoo model), "onnx" (a file alone), "vs" (the file of --vs) or "pytorch"
     * @param detail        what a comparison row ran: the --vs file's name, PyTorch's version; else null
     * @param flopsPerImage 0 when unknown (a foreign file)
     * @param peakResident  the process's peak resident bytes during the measurement, or null
     * @param zooRatio      for a comparison row, the zoo's time ÷ this row's (below 1: the zoo is faster): with
     *                      --vs, whose runs alternate with the zoo's, the median of the per-round ratios
     *                      ({@link Latencies#pairedRatio}); for PyTorch, timed in its own process, the
     *                      ratio of the medians
     * @param p50Ratio      for a comparison row, the zoo's p50 ÷ this row's p50
     */
    record Row(String name, String source, String detail, String mode, int batch, Latencies latencies, long flopsPerImage, Long peakResident,
            Double zooRatio, Double p50Ratio) {
        double gflopsPerSecond() {
            return flopsPerImage == 0 ? Double.NaN : flopsPerImage * (double) batch / (latencies.p50() * 1e6);
        }
    }

    private final Machine machine;
    private final Map<String, Object> settings;
    private final List<Row> rows = new ArrayList<>();
    private final int nameWidth;

    BenchReport(Machine machine, Map<String, Object> settings, int nameWidth) {
        this.machine = machine;
        this.settings = settings;
        this.nameWidth = Math.max(12, nameWidth);
    }

    void add(Row row) {
        rows.add(row);
    }

    List<Row> rows() {
        return List.copyOf(rows);
    }

    // ---- table ------------------------------------------------------------------------------

    String tableHeader() {
        return String.format(Locale.ROOT, "%-" + nameWidth + "s %5s %10s %10s %10s %10s %9s %11s %5s  %8s  %s", "model", "batch", "p50 ms",
                "p90 ms", "p99 ms", "img/s", "GFLOP/s", "peak RSS", "runs", "zoo÷this", "RSS÷this");
    }

    /** For a PyTorch row, the zoo's peak resident bytes at the same model and batch over PyTorch's; else null. */
    Double residentRatio(Row r) {
        if (!r.source().equals("pytorch") || r.peakResident() == null) {
            return null;
        }
        return rows.stream().filter(z -> z.source().equals("zoo") && z.name().equals(r.name()) && z.batch() == r.batch() && z.peakResident() != null)
                .findFirst().map(z -> z.peakResident() / (double) r.peakResident()).orElse(null);
    }

    String tableLine(Row r) {
        String name = r.detail() == null ? r.name() : "  " + r.source() + " " + r.detail();
        if (name.length() > nameWidth) {
            name = name.substring(0, nameWidth - 1) + "…";
        }
        Latencies l = r.latencies();
        Double resident = residentRatio(r);
        return String.format(Locale.ROOT, "%-" + nameWidth + "s %5d %10s %10s %10s %10s %9s %11s %5d  %8s  %s", name, r.batch(), ms(l.p50()),
                ms(l.p90()), ms(l.p99()), number(l.imagesPerSecond(r.batch())), Double.isNaN(r.gflopsPerSecond()) ? "" : number(r.gflopsPerSecond()),
                r.peakResident() == null ? "" : Format.bytes(r.peakResident()), l.runs(),
                r.zooRatio() == null ? "" : String.format(Locale.ROOT, "%.3f", r.zooRatio()),
                resident == null ? "" : String.format(Locale.ROOT, "%.3f", resident)).stripTrailing();
    }

    String describeSetup() {
        return "# " + machine.describe() + "\n# " + settingsLine();
    }

    private String settingsLine() {
        StringBuilder sb = new StringBuilder();
        settings.forEach((k, v) -> {
            if (v != null) {
                sb.append(sb.length() == 0 ? "" : ", ").append(k).append(' ').append(v);
            }
        });
        return sb.toString();
    }

    private static String ms(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.1f", v) : v >= 10 ? String.format(Locale.ROOT, "%.2f", v)
                : String.format(Locale.ROOT, "%.3f", v);
    }

    private static String number(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : v >= 10 ? String.format(Locale.ROOT, "%.1f", v)
                : String.format(Locale.ROOT, "%.2f", v);
    }

    // ---- CSV and JSON -----------------------------------------------------------------------

    void writeCsv(PrintWriter out) {
        out.println("model,source,ran,mode,batch,runs,p50_ms,p90_ms,p99_ms,mean_ms,min_ms,images_per_second,flops_per_image,gflops_per_second,"
                + "peak_resident_bytes,zoo_ratio");
        for (Row r : rows) {
            Latencies l = r.latencies();
            out.printf(Locale.ROOT, "%s,%s,%s,%s,%d,%d,%.4f,%.4f,%.4f,%.4f,%.4f,%.3f,%d,%s,%s,%s%n", csv(r.name()), r.source(), r.detail() == null ? "" : csv(r.detail()), r.mode(), r.batch(),
                    l.runs(), l.p50(), l.p90(), l.p99(), l.mean(), l.min(), l.imagesPerSecond(r.batch()), r.flopsPerImage(),
                    Double.isNaN(r.gflopsPerSecond()) ? "" : String.format(Locale.ROOT, "%.3f", r.gflopsPerSecond()),
                    r.peakResident() == null ? "" : r.peakResident().toString(),
                    r.zooRatio() == null ? "" : String.format(Locale.ROOT, "%.4f", r.zooRatio()));
        }
        out.flush();
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    /** The whole run as a JSON document: machine, settings, every measurement with its timed runs. */
    Map<String, Object> json() {
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("tool", "cnn-zoo bench");
        doc.put("date", java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpu", machine.cpu());
        m.put("logical_cores", machine.logicalCores());
        m.put("memory_bytes", machine.memoryBytes());
        m.put("os", machine.os());
        m.put("java", machine.javaRuntime());
        m.put("onnxruntime", machine.onnxRuntime());
        doc.put("machine", m);
        doc.put("settings", settings);
        doc.put("flops_convention", FLOPS_NOTE);
        List<Map<String, Object>> results = new ArrayList<>();
        for (Row r : rows) {
            Latencies l = r.latencies();
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("model", r.name());
            o.put("source", r.source());
            if (r.detail() != null) {
                o.put("ran", r.detail());
            }
            o.put("mode", r.mode());
            o.put("batch", r.batch());
            o.put("runs", l.runs());
            Map<String, Object> lat = new LinkedHashMap<>();
            lat.put("p50", l.p50());
            lat.put("p90", l.p90());
            lat.put("p99", l.p99());
            lat.put("mean", l.mean());
            lat.put("min", l.min());
            o.put("latency_ms", lat);
            o.put("images_per_second", l.imagesPerSecond(r.batch()));
            o.put("flops_per_image", r.flopsPerImage() == 0 ? null : r.flopsPerImage());
            o.put("gflops_per_second", Double.isNaN(r.gflopsPerSecond()) ? null : r.gflopsPerSecond());
            o.put("peak_resident_bytes", r.peakResident());
            if (r.zooRatio() != null) {
                o.put("zoo_over_this", r.zooRatio());
                o.put("zoo_over_this_is", r.source().equals("vs") ? "median of per-round ratios (runs alternated)"
                        : "ratio of medians (timed in another process)");
                o.put("zoo_p50_over_this_p50", r.p50Ratio());
            }
            Double resident = residentRatio(r);
            if (resident != null) {
                o.put("zoo_peak_resident_over_this", resident);
            }
            o.put("millis", l.millis());
            results.add(o);
        }
        doc.put("results", results);
        return doc;
    }

    /**
     * The measurements of a report written by {@link #jsonText} (a child process's), without the
     * comparison ratios, which the reading side works out again.
     */
    static List<Row> rowsFromJson(String text) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (JsonNode r : new ObjectMapper().readTree(text).get("results")) {
            double[] millis = new double[r.get("millis").size()];
            for (int i = 0; i < millis.length; i++) {
                millis[i] = r.get("millis").get(i).asDouble();
            }
            rows.add(new Row(r.get("model").asText(), r.get("source").asText(), r.has("ran") ? r.get("ran").asText() : null,
                    r.get("mode").asText(), r.get("batch").asInt(), new Latencies(millis), r.path("flops_per_image").asLong(0),
                    r.get("peak_resident_bytes").isNull() ? null : r.get("peak_resident_bytes").asLong(), null, null));
        }
        return rows;
    }

    String jsonText() {
        try {
            return new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json());
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    void writeJson(Path file) throws IOException {
        AtomicFile.write(file, jsonText().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    // ---- chart ------------------------------------------------------------------------------

    /**
     * Images per second by model, one bar series per batch size and source, on a logarithmic axis
     * (LeNet and VGG differ by four orders of magnitude).
     */
    void writeChart(Path png) throws IOException {
        // Bars of one model stand together; a comparison's bars beside its zoo model's.
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        Set<String> categories = new LinkedHashSet<>();
        for (Row r : rows) {
            String key = (r.detail() == null ? "" : r.source().equals("vs") ? r.detail() + ", " : r.source() + ", ") + "batch " + r.batch();
            series.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(r.name(), r.latencies().imagesPerSecond(r.batch()));
            categories.add(r.name());
        }
        String mode = rows.isEmpty() ? "inference" : rows.get(0).mode();
        int bars = categories.size() * Math.max(1, series.size());
        CategoryChart chart = new CategoryChartBuilder().width(Math.min(2400, Math.max(900, 300 + 22 * bars)))
                .height(bars > 40 ? 800 : 600).title("zoo bench: " + mode + " images/s, " + machine.cpu() + ", " + settings.getOrDefault("threads", "?") + " threads")
                .xAxisTitle("model").yAxisTitle("images/s (log)").build();
        chart.getStyler().setYAxisLogarithmic(true);
        // Bars grow from the axis floor, which a log axis needs above zero: the decade below the slowest.
        double slowest = rows.stream().mapToDouble(r -> r.latencies().imagesPerSecond(r.batch())).min().orElse(1);
        chart.getStyler().setYAxisMin(Math.pow(10, Math.floor(Math.log10(slowest))));
        chart.getStyler().setXAxisLabelRotation(45);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.InsideNE);
        for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
            List<Double> values = new ArrayList<>();
            for (String c : categories) {
                values.add(s.getValue().get(c));   // null: no bar (the series did not run this model)
            }
            chart.addSeries(s.getKey(), new ArrayList<>(categories), values);
        }
        AtomicFile.write(png, BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG));
    }
}
