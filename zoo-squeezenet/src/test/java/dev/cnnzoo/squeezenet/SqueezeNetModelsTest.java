package dev.cnnzoo.squeezenet;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.cnnzoo.api.ModelConfig;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.graph.Graph;
import org.junit.jupiter.api.Test;

class SqueezeNetModelsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @Test
    void squeezenet11CountsTorchvisionsSqueezenet11() {
        // torchvision SqueezeNet1_1_Weights.IMAGENET1K_V1 meta "num_params": 1,235,496.
        assertEquals(1_235_496, ZOO.build("squeezenet1-1").graph().trainableParameterCount());
    }

    @Test
    void fireModulesConcatenateTheirTwoExpansions() {
        Graph g = ZOO.build("squeezenet1-1").graph();
        assertEquals("N×1000", g.mainOutput().shape().toString());
        assertEquals(512, g.parameters().get("classifier.1.weight").shape().dims()[1], "fire9: 256 1×1 + 256 3×3 maps");
        assertEquals(64, g.parameters().get("features.12.squeeze.weight").shape().dims()[0]);
        assertEquals(256, g.parameters().get("features.12.expand3x3.weight").shape().dims()[0]);
        Graph headless = ZOO.build("squeezenet1-1", ModelConfig.builder().includeTop(false).build()).graph();
        assertEquals("N×512", headless.mainOutput().shape().toString());
    }
}
