package dev.cnnzoo.runtime.interchange;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.graph.DType;
import dev.cnnzoo.weights.Weights;
import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PyTorchCheckpointTest {
    @TempDir
    Path dir;

    private static final float[] TWELVE = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};

    private static long[] dims(long... d) {
        return d;
    }

    private ZooException refused(String name, Consumer<TorchArchive> body) throws IOException {
        TorchArchive a = new TorchArchive();
        body.accept(a);
        Path file = a.write(dir.resolve(name));
        return assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(file));
    }

    @Test
    void viewsAreCopiedOutAndEveryStorageTypeReadsAsPyTorchWouldGiveIt() throws IOException {
        Path file = new TorchArchive().beginDict()
                .tensor("w", "FloatStorage", "0", 12, 0, dims(3, 4), dims(4, 1))
                .tensor("w_t", "FloatStorage", "0", 12, 0, dims(4, 3), dims(1, 4))              // w.t()
                .tensor("w_slice", "FloatStorage", "0", 12, 4, dims(2, 2), dims(4, 2))          // w[1:, ::2]
                .tensor("half", "HalfStorage", "1", 3, 0, dims(3), dims(1))
                .tensor("bf16", "BFloat16Storage", "2", 2, 0, dims(2), dims(1))
                .tensor("double", "DoubleStorage", "3", 2, 1, dims(1), dims(1))
                .tensor("bn.num_batches_tracked", "LongStorage", "4", 1, 0, dims(), dims())
                .endDict()
                .storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, TWELVE))
                .storage("1", TorchArchive.shorts(0x3c00, 0xc000, 0x3800))                      // 1, −2, 0.5
                .storage("2", TorchArchive.shorts(0x3f80, 0xc040))                              // 1, −3
                .storage("3", TorchArchive.doubles(0.25, -1.5))
                .storage("4", TorchArchive.longs(1234))
                .write(dir.resolve("mixed.pth"));
        PyTorchCheckpoint.Contents c = PyTorchCheckpoint.readContents(file);
        Weights w = c.weights();
        assertEquals(List.of("w", "w_t", "w_slice", "half", "bf16", "double", "bn.num_batches_tracked"), w.names(), "the file's order");
        assertArrayEquals(TWELVE, w.get("w").floats());
        assertArrayEquals(new float[] {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}, w.get("w_t").floats());
        assertArrayEquals(new int[] {4, 3}, w.get("w_t").shape().dims());
        assertArrayEquals(new float[] {4, 6, 8, 10}, w.get("w_slice").floats());
        assertArrayEquals(new float[] {1, -2, 0.5f}, w.get("half").floats());
        assertArrayEquals(new float[] {1, -3}, w.get("bf16").floats());
        assertArrayEquals(new float[] {-1.5f}, w.get("double").floats());
        assertEquals(DType.INT64, w.get("bn.num_batches_tracked").dtype());
        assertArrayEquals(new long[] {1234}, w.get("bn.num_batches_tracked").longs());
        assertEquals(2, c.views());
        assertEquals(List.of("1 tensor stored as BFloat16Storage, converted to float32", "1 tensor stored as DoubleStorage, converted to float32",
                "1 tensor stored as HalfStorage, converted to float32", "2 strided views copied out in row-major order"), c.notes());
    }

    @Test
    void aBigEndianArchiveSaysSoAndIsReadSo() throws IOException {
        Path file = new TorchArchive().beginDict().tensor("w", "FloatStorage", "0", 3, 0, dims(3), dims(1)).endDict()
                .storage("0", TorchArchive.floats(ByteOrder.BIG_ENDIAN, 1.5f, -2, 3)).byteOrder("big").write(dir.resolve("big.pth"));
        assertArrayEquals(new float[] {1.5f, -2, 3}, PyTorchCheckpoint.read(file).get("w").floats());
    }

    @Test
    void aTrainingCheckpointsStateDictIsFoundUnderItsKey() throws IOException {
        TorchArchive a = new TorchArchive().op('}').op('(').string("epoch").integer(7).string("model").beginDict()
                .tensor("fc.weight", "FloatStorage", "0", 4, 0, dims(2, 2), dims(2, 1)).endDict().op('u');
        Path file = a.storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, 1, 2, 3, 4)).write(dir.resolve("ckpt.pth"));
        PyTorchCheckpoint.Contents c = PyTorchCheckpoint.readContents(file);
        assertEquals("model", c.location());
        assertEquals(List.of("fc.weight"), c.weights().names());

        TorchArchive none = new TorchArchive().op('}').op('(').string("epoch").integer(7).string("lr").integer(1).op('u');
        Path empty = none.write(dir.resolve("no-tensors.pth"));
        assertEquals("no-tensors.pth holds no state dict: no tensors at its top level or under 'state_dict', 'model_state_dict', 'model', "
                + "'module', 'net' (its top-level keys: epoch, lr)", assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(empty)).getMessage());
    }

    // ---- what is refused --------------------------------------------------------------------

    @Test
    void aGlobalOffTheAllowlistIsRefusedByNameAndNeverCalled() throws IOException {
        Path marker = dir.resolve("ran");
        // torch.save of an object whose __reduce__ is (os.system, ("touch ran",)).
        ZooException e = refused("system.pth", a -> a.beginDict().string("x").global("os", "system").string("touch " + marker).op(0x85)
                .op('R').endDict());
        assertTrue(e.getMessage().startsWith("system.pth refers to the Python global 'os.system', which a weights-only load refuses"),
                e.getMessage());
        assertFalse(Files.exists(marker));
    }

    @Test
    void everyWayAPickleCanNameAGlobalIsChecked() throws IOException {
        // Protocol 4's STACK_GLOBAL takes the names from the stack.
        assertTrue(refused("stack.pth", a -> a.string("builtins").string("eval").op(0x93)).getMessage().contains("'builtins.eval'"));
        // INST names a class and calls it with the items since the mark.
        assertTrue(refused("inst.pth", a -> a.op('(').string("ls").named('i', "subprocess", "Popen")).getMessage()
                .contains("'subprocess.Popen'"));
        // copyreg's extension registry names globals by number.
        assertTrue(refused("ext.pth", a -> a.op(0x82).op(1)).getMessage().contains("extension registry"));
        // torch's own functions are no exception: only those PyTorch's weights-only load allows.
        assertTrue(refused("qtensor.pth", a -> a.global("torch._utils", "_rebuild_qtensor")).getMessage()
                .contains("'torch._utils._rebuild_qtensor'"));
        assertTrue(refused("module.pth", a -> a.global("torchvision.models.resnet", "ResNet")).getMessage()
                .contains("A whole pickled model names its classes this way; save its state_dict() instead"));
    }

    @Test
    void theAllowlistIsPyTorchsWeightsOnlySetPlusTwoDataOnlyNames() {
        var allowed = WeightsOnlyUnpickler.allowedGlobals();
        for (String name : List.of("collections.OrderedDict", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_parameter",
                "torch._utils._rebuild_parameter_with_state", "torch.FloatStorage", "torch.HalfStorage", "torch.BFloat16Storage",
                "torch.cuda.FloatStorage", "torch.Size", "torch.nn.parameter.Parameter", "torch.device")) {
            assertTrue(allowed.contains(name), name);
        }
        for (String name : List.of("torch.storage._load_from_bytes", "torch._utils._rebuild_qtensor", "builtins.getattr", "os.system",
                "torch.load", "numpy.core.multiarray._reconstruct")) {
            assertFalse(allowed.contains(name), name);
        }
    }

    @Test
    void aBuildOnAnythingButADictIsRefused() throws IOException {
        // BUILD sets an object's state: Python's unpickler calls its __setstate__, which a list lacks but a crafted class has.
        ZooException e = refused("build.pth", a -> a.op(']').op('}').op('b'));
        assertTrue(e.getMessage().contains("not a pickle of tensors PyTorch wrote"), e.getMessage());
    }

    // ---- bounds -----------------------------------------------------------------------------

    @Test
    void aViewReachingPastItsStorageIsRefusedBeforeAnythingIsRead() throws IOException {
        ZooException e = refused("strides.pth", a -> a.beginDict().tensor("fc.weight", "FloatStorage", "0", 16, 0, dims(4, 4), dims(100, 1))
                .endDict().storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, new float[16])));
        assertEquals("tensor 'fc.weight' in strides.pth (shape [4, 4], strides [100, 1], offset 0) reaches element 304 of its storage data/0, "
                + "which holds 16", e.getMessage());
        ZooException offset = refused("offset.pth", a -> a.beginDict().tensor("b", "FloatStorage", "0", 4, 3, dims(2), dims(1))
                .endDict().storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, new float[4])));
        assertTrue(offset.getMessage().contains("reaches element 5 of its storage data/0, which holds 4"), offset.getMessage());
    }

    @Test
    void aStorageEntryShorterThanItsTensorIsRefused() throws IOException {
        ZooException e = refused("short.pth", a -> a.beginDict().tensor("conv.weight", "FloatStorage", "0", 8, 0, dims(2, 4), dims(4, 1))
                .endDict().storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, 1, 2, 3)));
        assertEquals("tensor 'conv.weight' in short.pth (shape [2, 4], strides [4, 1], offset 0) needs 32 bytes of storage data/0, which holds "
                + "only 12", e.getMessage());
        ZooException missing = refused("missing.pth", a -> a.beginDict().tensor("w", "FloatStorage", "7", 1, 0, dims(1), dims(1)).endDict());
        assertTrue(missing.getMessage().endsWith("lives in storage data/7, which the archive lacks"), missing.getMessage());
    }

    @Test
    void aLengthThePickleCannotHoldIsRefusedWithoutAllocatingIt() throws IOException {
        // BINUNICODE claiming 2 GB in a pickle of a few bytes.
        ZooException e = refused("claims.pth", a -> a.op('X').op(0xff).op(0xff).op(0xff).op(0x7f));
        assertTrue(e.getMessage().contains("a value claims 2147483647 bytes"), e.getMessage());
    }

    // ---- other files ------------------------------------------------------------------------

    @Test
    void aTruncatedArchiveIsReportedAsSuch() throws IOException {
        Path whole = new TorchArchive().beginDict().tensor("w", "FloatStorage", "0", 12, 0, dims(12), dims(1)).endDict()
                .storage("0", TorchArchive.floats(ByteOrder.LITTLE_ENDIAN, TWELVE)).write(dir.resolve("whole.pth"));
        byte[] bytes = Files.readAllBytes(whole);
        Path cut = Files.write(dir.resolve("cut.pth"), Arrays.copyOf(bytes, bytes.length - 40));
        ZooException e = assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(cut));
        assertTrue(e.getMessage().startsWith("cut.pth is not a complete zip archive (truncated or damaged"), e.getMessage());
    }

    @Test
    void theLegacyFormatGetsHowToReSaveIt() throws IOException {
        // The legacy format is a bare pickle stream starting with PyTorch's magic number.
        Path legacy = Files.write(dir.resolve("old.pth"), new byte[] {(byte) 0x80, 2, (byte) 0x8a, 10, 0x6c, (byte) 0xfc, (byte) 0x9c});
        assertEquals("old.pth is in PyTorch's legacy (pre-1.6) format, which the zoo does not read; re-save it with PyTorch ≥ 1.6 as "
                + "torch.save(torch.load(\"old.pth\"), \"old-zip.pth\", _use_new_zipfile_serialization=True)",
                assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(legacy)).getMessage());
        Path text = Files.writeString(dir.resolve("notes.pth"), "not a checkpoint");
        assertEquals("notes.pth is not a PyTorch checkpoint (a torch.save file is a zip archive)",
                assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(text)).getMessage());
    }

    @Test
    void theFormatIsToldByContent() throws IOException {
        Path pth = new TorchArchive().beginDict().endDict().write(dir.resolve("weights.bin"));
        assertEquals(WeightFileFormat.PYTORCH, WeightFileFormat.of(pth));
        assertEquals(WeightFileFormat.ONNX, WeightFileFormat.of(Files.writeString(dir.resolve("x.onnx"), "\u0008\u0007")));
        // Bytes that match nothing: the name chooses the reader whose message makes sense.
        assertEquals(WeightFileFormat.PYTORCH, WeightFileFormat.of(Files.writeString(dir.resolve("x.pth"), "\u0008\u0007")));
        assertEquals(WeightFileFormat.KERAS, WeightFileFormat.of(Files.writeString(dir.resolve("x.h5"), "\u0008\u0007")));
    }

    @Test
    void archivesOfOtherToolsSayWhatTheyAre() throws IOException {
        for (String[] c : new String[][] {{"scripted.pt", "m/constants.pkl", "scripted.pt is a TorchScript archive (torch.jit.save)"},
                {"model.keras", "model.weights.h5", "model.keras is a Keras 3 .keras archive"}}) {
            Path file = dir.resolve(c[0]);
            try (var zip = new java.util.zip.ZipOutputStream(Files.newOutputStream(file))) {
                zip.putNextEntry(new java.util.zip.ZipEntry(c[1]));
                zip.closeEntry();
            }
            String message = assertThrows(ZooException.class, () -> PyTorchCheckpoint.read(file)).getMessage();
            assertTrue(message.startsWith(c[2]), message);
        }
    }
}
