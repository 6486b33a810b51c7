package dev.cnnzoo.testkit;

import java.nio.file.Path;

/** The reference ONNX checker, {@code onnx.checker.check_model(model, full_check=True)}, from Debian's python3-onnx. */
public final class OnnxChecker {
    private OnnxChecker() {
    }

    /**
     * Runs the full check (structure, operator schemas and strict shape inference) on each file;
     * fails with the checker's message.
     */
    public static void fullCheck(Path... models) {
        String[] args = new String[models.length];
        for (int i = 0; i < models.length; i++) {
            args[i] = models[i].toString();
        }
        Python.runResource(OnnxChecker.class, "check_onnx.py", args);
    }
}
