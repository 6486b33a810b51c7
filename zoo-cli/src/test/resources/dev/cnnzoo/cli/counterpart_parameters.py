# Builds each counterpart the zoo names (random weights) and prints one JSON line per model:
# {"model": ID, "parameters": {state-dict name: shape}}, num_batches_tracked counters left out.
# Usage: counterpart_parameters.py COUNTERPARTS   (JSON: zoo id -> counterpart, from the zoo)
import json

for model_id, spec in json.loads(sys.argv[1]).items():
    network = counterpart(spec)
    shapes = {name: list(t.shape) for name, t in torch_state_dict(network).items()}
    print(json.dumps({"model": model_id, "parameters": shapes}), flush=True)
    del network
