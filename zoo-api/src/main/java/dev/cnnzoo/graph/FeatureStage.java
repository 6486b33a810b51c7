package dev.cnnzoo.graph;

/**
 * One feature stage of a network (timm's {@code feature_info} entry): the last feature map at one
 * reduction of the input, as a backbone hands it to a detector or a segmentation head.
 *
 * @param name      {@code stage1}, {@code stage2}... numbered from the input, whatever stages an
 *                  extraction keeps (an output keeps its stage's name)
 * @param layer     the layer it taps, as the network's builder names it ({@code layer1}, {@code features.29},
 *                  {@code Mixed_6e})
 * @param channels  its maps
 * @param reduction how many input pixels one of its positions steps over: the product of the strides
 *                  between the input and the tap (2, 4, 8, 16, 32; 1 for a stage at full resolution)
 * @param value     the tapped value in the graph
 */
public record FeatureStage(String name, String layer, int channels, int reduction, Value value) {
}
