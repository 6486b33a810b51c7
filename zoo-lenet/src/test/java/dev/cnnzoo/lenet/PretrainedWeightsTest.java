package dev.cnnzoo.lenet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.Model;
import dev.cnnzoo.api.ModelZoo;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.weights.Weights;
import org.junit.jupiter.api.Test;

class PretrainedWeightsTest {
    private static final ModelZoo ZOO = ModelZoo.load();

    @Test
    void shippedWeightsFitTheirModelsAndNameTheirClasses() {
        for (String id : ZOO.idsWithPretrained()) {
            Model m = ZOO.build(id);
            Weights w = ZOO.pretrained(id);
            assertEquals(m.graph().parameters().size(), w.bind(m.graph()).size(), id);
            var info = ZOO.pretrainedInfo(id).orElseThrow();
            assertEquals(m.config().classes(), info.labels().size(), id);
            assertTrue(info.description().contains("zoo train " + id), "the description gives the command that reproduces " + id);
        }
        assertTrue(ZOO.idsWithPretrained().contains("lenet5"));
        assertTrue(assertThrows(ZooException.class, () -> ZOO.pretrained("lenet5-modern")).getMessage()
                .contains("no pretrained weights for lenet5-modern; it has them for"));
    }
}
