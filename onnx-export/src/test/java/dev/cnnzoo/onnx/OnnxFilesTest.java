package dev.cnnzoo.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.Graph;
import dev.cnnzoo.testkit.EveryLayer;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxFilesTest {
    @TempDir
    Path dir;

    @Test
    void externalDataIsReadIntoTheModel() throws IOException {
        Graph g = EveryLayer.build();
        Weights w = Weights.initial(g, 2);
        Path file = dir.resolve("every.onnx");
        List<Path> written = OnnxExporter.write(g, w, file, ExportOptions.defaults().externalDataThreshold(0));
        assertEquals(2, written.size(), "weights went to a side file");
        ModelProto m = OnnxFiles.read(file);
        TensorProto conv = m.getGraph().getInitializerList().stream().filter(t -> t.getName().equals("conv_same.weight")).findFirst().orElseThrow();
        assertEquals(TensorProto.DataLocation.DEFAULT, conv.getDataLocation());
        assertArrayEquals(w.get("conv_same.weight").floats(), OnnxFiles.floats(conv));
    }

    @Test
    void aFileThatIsNotAModelIsNamed() throws IOException {
        Path junk = Files.writeString(dir.resolve("junk.onnx"), "not protobuf at all");
        ZooException e = assertThrows(ZooException.class, () -> OnnxFiles.read(junk));
        assertTrue(e.getMessage().startsWith(junk + " is not an ONNX model"), e.getMessage());
        assertEquals("ONNX file " + dir.resolve("none.onnx") + " does not exist",
                assertThrows(ZooException.class, () -> OnnxFiles.read(dir.resolve("none.onnx"))).getMessage());
    }

    @Test
    void halfPrecisionDecodes() {
        assertEquals(1f, OnnxFiles.halfToFloat((short) 0x3c00));
        assertEquals(-2f, OnnxFiles.halfToFloat((short) 0xc000));
        assertEquals(65504f, OnnxFiles.halfToFloat((short) 0x7bff));
        assertEquals(0x1p-24f, OnnxFiles.halfToFloat((short) 0x0001));
        assertEquals(Float.NEGATIVE_INFINITY, OnnxFiles.halfToFloat((short) 0xfc00));
    }
}
