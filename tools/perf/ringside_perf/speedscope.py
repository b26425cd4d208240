"""speedscope 'sampled' profile JSON (https://www.speedscope.app/file-format-schema.json) from folded stacks."""
import json


def render(stacks, name):
    """JSON text: one sampled profile, one sample per distinct stack weighted by its count."""
    frame_index, frames = {}, []
    samples, weights = [], []
    for stack, count in sorted(stacks.items()):
        ids = []
        for frame in stack.split(';'):
            if frame not in frame_index:
                frame_index[frame] = len(frames)
                frames.append({'name': frame})
            ids.append(frame_index[frame])
        samples.append(ids)
        weights.append(count)
    doc = {
        '$schema': 'https://www.speedscope.app/file-format-schema.json',
        'shared': {'frames': frames},
        'profiles': [{
            'type': 'sampled', 'name': name, 'unit': 'none',
            'startValue': 0, 'endValue': sum(weights),
            'samples': samples, 'weights': weights,
        }],
        'name': name,
        'exporter': 'ringside-perf',
    }
    return json.dumps(doc)
