package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.junit.jupiter.api.Test;

class PreprocessingTest {
    @Test
    void theRecipeScalesWithTheInputSize() {
        Preprocessing imagenet = Preprocessing.imagenet(256, 224);
        assertSame(imagenet, imagenet.forInput(224, 224));
        assertEquals(128, imagenet.forInput(112, 112).resize(), "256 → 224 at 112: 128 → 112, as torchvision's ratio");
        assertEquals(112, imagenet.forInput(112, 112).crop());
        assertEquals(112, imagenet.forInput(112, 160).crop(), "the shorter side");
        Preprocessing lenet = Preprocessing.grey(28, 0.286f, 0.353f);
        assertEquals(32, lenet.forInput(32, 32).crop());
        assertEquals(32, lenet.forInput(32, 32).resize());
    }
}
