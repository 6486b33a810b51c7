package dev.cnnzoo.runtime.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassNamesTest {
    @TempDir
    Path dir;

    @Test
    void imagenetHasItsThousandClassesInIndexOrder() {
        List<String> names = ClassNames.imagenet();
        assertEquals(1000, names.size());
        assertEquals(1000, new HashSet<>(names).size(), "distinct names");
        // Spot checks against the ILSVRC 2012 synset order: n01440764 tench, n01443537 goldfish, n02123045 tabby, n15075141 toilet tissue.
        assertEquals("tench", names.get(0));
        assertEquals("goldfish", names.get(1));
        assertEquals("tabby", names.get(281));
        assertEquals("toilet tissue", names.get(999));
    }

    @Test
    void labelsFilesSkipCommentsAndTrailingBlankLines() throws IOException {
        Path f = dir.resolve("labels.txt");
        Files.writeString(f, "# my classes\ncat\n dog \n\n");
        assertEquals(List.of("cat", "dog"), ClassNames.read(f));
        Files.writeString(f, "# nothing\n\n");
        assertTrue(assertThrows(ZooException.class, () -> ClassNames.read(f)).getMessage().contains("names no classes"));
        assertTrue(assertThrows(ZooException.class, () -> ClassNames.read(dir.resolve("absent.txt"))).getMessage().contains("does not exist"));
    }
}
