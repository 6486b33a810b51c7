package dev.cnnzoo.api;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

class NaturalOrderTest {
    private static List<String> sorted(String... names) {
        List<String> l = new ArrayList<>(List.of(names));
        Collections.shuffle(l, new java.util.Random(3));
        l.sort(NaturalOrder.names());
        return l;
    }

    @Test
    void depthsCompareAsNumbers() {
        assertEquals(List.of("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
                sorted("resnet101", "resnet152", "resnet18", "resnet34", "resnet50"));
        assertEquals(List.of("preact-resnet18", "preact-resnet110", "preact-resnet164", "preact-resnet1001"),
                sorted("preact-resnet1001", "preact-resnet110", "preact-resnet164", "preact-resnet18"));
        assertEquals(List.of("vgg11", "vgg11-bn", "vgg16", "vgg16-bn", "vgg19"), sorted("vgg16-bn", "vgg19", "vgg11-bn", "vgg16", "vgg11"));
        assertEquals(List.of("inception-v3", "inception-v4"), sorted("inception-v4", "inception-v3"));
        assertEquals(List.of("a2", "a02", "a10"), sorted("a10", "a02", "a2"), "equal values: fewer leading zeros first");
        assertEquals(List.of("n99999999999999999999", "n100000000000000000000"), sorted("n100000000000000000000", "n99999999999999999999"),
                "numbers beyond a long");
    }
}
