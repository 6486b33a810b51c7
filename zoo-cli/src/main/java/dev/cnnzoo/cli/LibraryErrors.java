package dev.cnnzoo.cli;

import dev.cnnzoo.api.ZooException;
import dev.cnnzoo.runtime.DeviceUnavailableException;
import dev.cnnzoo.runtime.interchange.WeightsMismatchException;
import dev.cnnzoo.training.run.DataMismatchException;
import dev.cnnzoo.training.run.TrainingDivergedException;
import dev.cnnzoo.training.run.TrainingFinishedException;
import dev.cnnzoo.training.run.TrainingRunExistsException;
import dev.cnnzoo.weights.WeightChecks;

/**
 * The libraries' errors in the command line's terms: where a library message advises a setting
 * (a device, a learning rate, resuming a run), the flag that sets it. Every other message is the
 * library's own.
 */
final class LibraryErrors {
    private LibraryErrors() {
    }

    /** The one line {@code zoo COMMAND} prints for {@code e} (after "zoo: "). */
    static String message(ZooException e, String command) {
        if (e instanceof DeviceUnavailableException d) {
            return switch (d.reason()) {
                case NOT_IN_BUILD -> "--device " + d.device() + " needs ONNX Runtime's CUDA build, but the one on the class path offers only "
                        + d.detail() + ". Rebuild with `mvn -Pcuda package` (artifact onnxruntime_gpu) on a machine with an NVIDIA GPU, "
                        + "or use --device cpu.";
                case DID_NOT_START -> "ONNX Runtime's CUDA execution provider did not start on device " + d.deviceId() + " (" + d.detail()
                        + "); is an NVIDIA GPU with its driver and CUDA 12's libraries present? Use --device cpu to run on the CPU.";
            };
        }
        if (e instanceof TrainingRunExistsException r) {
            return r.dir() + " already holds a training run; use --resume to continue it or --out for a new folder";
        }
        if (e instanceof TrainingFinishedException f) {
            return finished(f);
        }
        if (e instanceof DataMismatchException m) {
            return m.problem() + (m.aspect() == DataMismatchException.Aspect.INPUT ? "; pass --input " : "; pass --classes ") + m.fits();
        }
        if (e instanceof TrainingDivergedException t) {
            return t.problem() + " Try a lower --lr or --warmup-steps.";
        }
        if (e instanceof WeightsMismatchException w) {
            return w.problem() + (command.equals("import") ? " (use --partial to keep " + w.keeps() + ")"
                    : " (`zoo import --partial` keeps " + w.keeps() + ")");
        }
        if (e instanceof WeightChecks.NonFiniteException) {
            return e.getMessage() + " (--allow-non-finite accepts them)";
        }
        return e.getMessage();
    }

    /** What `zoo train --resume` says of a run that has done its epochs. */
    static String finished(TrainingFinishedException f) {
        return "the run in " + f.dir() + " has finished its " + f.epochs() + " epoch" + (f.epochs() == 1 ? "" : "s") + " (step " + f.step()
                + ") and written its model; to train it further, ask for more epochs explicitly: --resume --epochs N with N above "
                + f.epochs();
    }
}
