package dev.cnnzoo.runtime.predict;

import dev.cnnzoo.graph.Shape;
import dev.cnnzoo.graph.Tensor;
import dev.cnnzoo.runtime.image.ImageTransform;
import java.util.List;
import java.util.function.BiConsumer;

/** Images through a model's preprocessing, batch by batch, into the tensors its input takes. */
final class ImageBatches {
    private ImageBatches() {
    }

    /** Calls {@code each} with every chunk of up to {@code batch} inputs, in order, and its N×C×H×W tensor. */
    static void forEach(ImageTransform transform, List<Predictor.Input> inputs, int batch, BiConsumer<List<Predictor.Input>, Tensor> each) {
        int per = transform.channels() * transform.height() * transform.width();
        for (int start = 0; start < inputs.size(); start += batch) {
            List<Predictor.Input> chunk = inputs.subList(start, Math.min(inputs.size(), start + batch));
            float[] pixels = new float[chunk.size() * per];
            for (int i = 0; i < chunk.size(); i++) {
                transform.apply(chunk.get(i).image(), pixels, i * per);
            }
            each.accept(chunk, Tensor.of(Shape.of(chunk.size(), transform.channels(), transform.height(), transform.width()), pixels));
        }
    }
}
