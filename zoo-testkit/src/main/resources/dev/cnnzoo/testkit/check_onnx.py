# Full ONNX check of each model named on the command line; exits non-zero on the first failure.
import sys
import onnx

for path in sys.argv[1:]:
    # Passing the path (not a loaded proto) lets the checker resolve external data beside it.
    onnx.checker.check_model(path, full_check=True)
    print("ok", path)
