# The full ONNX check of each feature-extractor export named on the command line, then its outputs
# against the zoo.feature_info it records: one entry per output, in order, with the output's maps.
# Prints "ok FILE STAGES" per file; exits non-zero on the first failure.
import json

import onnx

for path in sys.argv[1:]:
    onnx.checker.check_model(path, full_check=True)
    model = onnx.load(path, load_external_data=False)
    meta = {p.key: p.value for p in model.metadata_props}
    info = json.loads(meta["zoo.feature_info"])
    outputs = [(o.name, [d.dim_value if d.HasField("dim_value") else d.dim_param for d in o.type.tensor_type.shape.dim])
               for o in model.graph.output]
    assert [o[0] for o in outputs] == [s["name"] for s in info], (path, outputs, info)
    for (name, dims), stage in zip(outputs, info):
        assert len(dims) == 4 and isinstance(dims[0], str), (path, name, dims)
        assert dims[1] == stage["channels"], (path, name, dims, stage)
        assert stage["reduction"] in (1, 2, 4, 8, 16, 32) and stage["layer"], (path, stage)
    print("ok", path, len(info), flush=True)
