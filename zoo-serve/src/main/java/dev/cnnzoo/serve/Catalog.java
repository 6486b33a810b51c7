package dev.cnnzoo.serve;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelInfo;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.Paper;
import dev.cnnzoo.graph.Summary;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * What the catalog pages show, as JSON-ready maps: every model's {@code zoo list} line with its
 * paper, reported error and benchmark figures, and one model's {@code zoo info} summary. All of it
 * comes from {@link ModelZoo} and {@link Summary}; the pages only lay it out.
 */
final class Catalog {
    private final ModelZoo zoo;
    private final BenchFigures bench;
    private final Function<String, ServedModel> served;

    /** @param served the served model of an id, or null */
    Catalog(ModelZoo zoo, BenchFigures bench, Function<String, ServedModel> served) {
        this.zoo = zoo;
        this.bench = bench;
        this.served = served;
    }

    /** The models {@code zoo list GLOB} shows (all for null or blank), one entry each. */
    Map<String, Object> list(String glob) {
        List<ModelInfo> models = glob == null || glob.isBlank() ? zoo.list() : zoo.list(glob.strip());
        List<Map<String, Object>> entries = new ArrayList<>();
        for (ModelInfo info : models) {
            entries.add(entry(info, zoo.summary(info.id())));
        }
        Map<String, Object> doc = new LinkedHashMap<>();
        doc.put("models", entries);
        doc.put("total", zoo.list().size());
        doc.put("bench_machine", bench.machine());
        return doc;
    }

    /** One model's entry and its {@code zoo info} summary, the per-layer rows grouped to {@code depth} parts of their names. */
    Map<String, Object> info(String id, int depth) {
        Model model = zoo.build(id);
        ModelInfo info = model.info();
        Summary s = Summary.of(model.graph());
        Map<String, Object> o = entry(info, zoo.summary(id));
        o.put("description", info.description());
        o.put("classes", model.config().classes());
        o.put("preprocessing", info.preprocessing().toString());
        o.put("options", new TreeMap<>(info.options()));
        o.put("auxiliary", info.auxiliary());
        o.put("parameters_with_auxiliary", s.parameters());
        o.put("state_scalars", s.stateScalars());
        o.put("weight_bytes", s.weightBytes());
        o.put("inference_activation_bytes", s.inferenceActivationBytes(1));
        o.put("training_activation_bytes_batch_32", s.trainingActivationBytes(32));
        o.put("depth", depth == Integer.MAX_VALUE ? null : depth);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Summary.Row r : s.rows(depth)) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("layer", r.layer());
            row.put("ops", r.ops());
            row.put("output", r.output().toString());
            row.put("parameters", r.parameters());
            row.put("macs", r.macs());
            rows.add(row);
        }
        o.put("layers", rows);
        return o;
    }

    private Map<String, Object> entry(ModelInfo info, Summary deployed) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("id", info.id());
        o.put("family", info.family());
        o.put("year", info.paper().year());
        o.put("parameters", deployed.parameters());
        o.put("macs", deployed.macs());
        o.put("input", info.inputDescription());
        Paper p = info.paper();
        Map<String, Object> paper = new LinkedHashMap<>();
        paper.put("citation", p.citation());
        paper.put("authors", p.authors());
        paper.put("title", p.title());
        paper.put("venue", p.venue());
        paper.put("url", p.url());
        o.put("paper", paper);
        if (info.reported() != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("top1", info.reported().top1());
            r.put("top5", info.reported().top5());
            r.put("protocol", info.reported().protocol());
            o.put("reported", r);
        } else {
            o.put("reported", null);
        }
        o.put("pretrained", zoo.pretrainedInfo(info.id()).isPresent());
        ServedModel s = served.apply(info.id());
        o.put("served", s != null);
        o.put("classifies", s != null && s.classifies());
        o.put("served_with", s == null ? null : s.origin());
        List<Map<String, Object>> figures = new ArrayList<>();
        for (BenchFigures.Figure f : bench.of(info.id())) {
            Map<String, Object> b = new LinkedHashMap<>();
            b.put("mode", f.mode());
            b.put("batch", f.batch());
            b.put("p50_ms", f.p50Millis());
            b.put("p99_ms", f.p99Millis());
            b.put("images_per_second", f.imagesPerSecond());
            figures.add(b);
        }
        o.put("bench", figures);
        return o;
    }
}
