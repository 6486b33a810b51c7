package dev.cnnzoo.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.cnnzoo.api.ZooException;
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
        m.put("cpu_features", machine.cpuFeatures());
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
     * The measurements of a report written by {@link #jsonText} (a child process's, whose rows have no
     * comparison ratios: the reading side works them out again; or a saved report's, with them).
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
                    r.path("peak_resident_bytes").isNumber() ? r.get("peak_resident_bytes").asLong() : null,
                    r.path("zoo_over_this").isNumber() ? r.get("zoo_over_this").asDouble() : null,
                    r.path("zoo_p50_over_this_p50").isNumber() ? r.get("zoo_p50_over_this_p50").asDouble() : null));
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

    void writeJson(Path file) {
        AtomicFile.write(file, jsonText().getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    // ---- chart ------------------------------------------------------------------------------

    /**
     * Above this ratio of fastest to slowest the chart's axis is logarithmic: on a linear axis 600
     * pixels high, a bar under a fiftieth of the tallest is a dozen pixels, and the slow models (VGG
     * beside LeNet, four orders of magnitude) would all look alike. Below it the axis is linear, where
     * bar lengths compare honestly.
     */
    static final double LOG_AXIS_ABOVE = 20;
    /** Dark enough for white labels: blue, orange, green, red, purple, brown (Tableau's palette, darkened). */
    private static final java.awt.Color[] SERIES_COLOURS = {new java.awt.Color(0x1f5a96), new java.awt.Color(0xc25e0e),
        new java.awt.Color(0x2b7a2b), new java.awt.Color(0xa4282a), new java.awt.Color(0x6b4c9a), new java.awt.Color(0x7a4a3a)};

    /**
     * Images per second by model, as a bar chart: one series per batch size and source, models in the
     * report's order (family, then depth), every bar labelled with its value. The axis is linear, or
     * logarithmic with a labelled line at every power of ten when the figures span more than
     * {@link #LOG_AXIS_ABOVE}× (its bars start at the power of ten below the slowest).
     */
    void writeChart(Path png) throws IOException {
        byte[] image = BitmapEncoder.getBitmapBytes(chart(), BitmapEncoder.BitmapFormat.PNG);
        AtomicFile.write(png, image);
    }

    CategoryChart chart() {
        // Bars of one model stand together; a comparison's bars beside its zoo model's.
        Map<String, Map<String, Double>> series = new LinkedHashMap<>();
        Set<String> categories = new LinkedHashSet<>();
        for (Row r : rows) {
            String key = (r.detail() == null ? "" : r.source().equals("vs") ? r.detail() + ", " : r.source() + ", ") + "batch " + r.batch();
            series.computeIfAbsent(key, k -> new LinkedHashMap<>()).put(r.name(), r.latencies().imagesPerSecond(r.batch()));
            categories.add(r.name());
        }
        String mode = rows.isEmpty() ? "inference" : rows.get(0).mode();
        double slowest = rows.stream().mapToDouble(r -> r.latencies().imagesPerSecond(r.batch())).min().orElse(1);
        double fastest = rows.stream().mapToDouble(r -> r.latencies().imagesPerSecond(r.batch())).max().orElse(1);
        boolean log = fastest / slowest > LOG_AXIS_ABOVE;
        int bars = categories.size() * Math.max(1, series.size());
        CategoryChart chart = new CategoryChartBuilder().width(Math.min(3000, Math.max(900, 240 + 26 * bars))).height(760)
                .title("zoo bench: " + (mode.equals("inference") ? "inference" : "training steps") + ", images per second (higher is faster); "
                        + machine.cpu() + ", " + settings.getOrDefault("threads", "?") + " threads")
                .xAxisTitle("model").yAxisTitle(log ? "images/s, logarithmic: each labelled line is 10× the one below" : "images/s").build();
        var styler = chart.getStyler();
        styler.setXAxisLabelRotation(45);
        styler.setLegendPosition(Styler.LegendPosition.InsideNE);
        // Each bar carries its value, written up its top end (XChart draws labels inside the bar) in white on dark colours.
        styler.setSeriesColors(SERIES_COLOURS);
        styler.setLabelsVisible(true);
        styler.setLabelsRotation(90);
        styler.setLabelsPosition(0.5);
        styler.setLabelsFontColorAutomaticEnabled(false);
        styler.setLabelsFontColor(java.awt.Color.WHITE);
        styler.setLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 11));
        styler.setDecimalPattern("#,##0.#");
        styler.setPlotGridVerticalLinesVisible(false);
        styler.setChartTitleFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.BOLD, 14));
        if (log) {
            styler.setYAxisLogarithmic(true);
            double floor = Math.pow(10, Math.floor(Math.log10(slowest)));
            // A labelled line below the slowest bar and above the fastest.
            double ceiling = Math.pow(10, Math.ceil(Math.log10(fastest * 1.25)));
            styler.setYAxisMin(floor);
            styler.setYAxisMax(ceiling);
            styler.setYAxisDecimalPattern("#,##0.#");       // XChart labels each power of ten; bar labels share the pattern
        } else {
            styler.setYAxisMin(0.0);
            styler.setYAxisMax(fastest * 1.15);
            styler.setYAxisDecimalPattern("#,##0");
        }
        for (Map.Entry<String, Map<String, Double>> s : series.entrySet()) {
            List<Double> values = new ArrayList<>();
            for (String c : categories) {
                values.add(s.getValue().get(c));   // null: no bar (the series did not run this model)
            }
            chart.addSeries(s.getKey(), new ArrayList<>(categories), values);
        }
        return chart;
    }

    /** This report with its rows ordered by model ({@code order} on names; stable, so each model's rows keep their order). */
    BenchReport sorted(java.util.Comparator<String> order) {
        BenchReport r = new BenchReport(machine, settings, nameWidth);
        rows.stream().sorted(java.util.Comparator.comparing(Row::name, order)).forEach(r::add);
        return r;
    }

    /** A report written by {@link #writeJson}, to show or chart again without measuring. */
    static BenchReport fromJson(String text, String what) {
        try {
            JsonNode doc = new ObjectMapper().readTree(text);
            JsonNode m = doc == null ? null : doc.get("machine");
            if (m == null || !doc.has("results") || !doc.has("settings")) {
                throw new ZooException(what + " is not a zoo bench report (it lacks machine, settings or results)");
            }
            Machine machine = new Machine(m.path("cpu").asText("?"), m.path("logical_cores").asInt(), m.path("memory_bytes").asLong(),
                    m.path("os").asText(""), m.path("java").asText(""), m.path("onnxruntime").asText(""),
                    m.has("cpu_features") ? new ObjectMapper().convertValue(m.get("cpu_features"),
                            new com.fasterxml.jackson.core.type.TypeReference<List<String>>() { }) : List.of());
            Map<String, Object> settings = new ObjectMapper().convertValue(doc.get("settings"),
                    new com.fasterxml.jackson.core.type.TypeReference<LinkedHashMap<String, Object>>() { });
            List<Row> rows = rowsFromJson(text);
            BenchReport r = new BenchReport(machine, settings, rows.stream().mapToInt(x -> x.name().length()).max().orElse(12) + 2);
            rows.forEach(r::add);
            return r;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new ZooException(what + " is not a readable zoo bench report: " + e.getOriginalMessage(), e);
        } catch (IOException | RuntimeException e) {
            if (e instanceof ZooException z) {
                throw z;
            }
            throw new ZooException(what + " is not a readable zoo bench report: " + e.getMessage(), e);
        }
    }
}
