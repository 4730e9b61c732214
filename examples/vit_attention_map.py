"""Plot where a trained Vision Transformer looks: its class token's attention over the patches.

    minidl train vit --data mnist-mini --out runs/vit
    PYTHONPATH=. python examples/vit_attention_map.py runs/vit/best.safetensors --count 8

Rebuilds the model from a ``minidl train`` checkpoint, takes the first ``--count`` test
images of the data it trained on (normalised as in training), and draws for each the image,
the last layer's class-token attention and the attention rollout over all layers
(``minidl.vision.attention_maps``), each patch's weight laid over its pixels, with the
predicted and true labels. Writes ``--out`` (a PNG) and prints the predictions.
"""
import argparse
import os

import minidl
from minidl.train.recipes import load_classifier, open_image_data
from minidl.vision.attention_maps import class_token_attention, plot_class_token_attention


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("checkpoint", help="a .safetensors file written by 'minidl train' for a ViT")
    p.add_argument("--count", type=int, default=8, help="test images to draw (default 8)")
    p.add_argument("--out", default="runs/vit_attention/vit_attention.png",
                   help="the PNG to write (default runs/vit_attention/vit_attention.png)")
    a = p.parse_args(argv)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    model, config = load_classifier(a.checkpoint)
    test = open_image_data(config["data"], train=False)
    x, y = test.to_tensors(*config["normalize"])
    x, y = x[:a.count], y[:a.count].numpy()
    maps = [class_token_attention(model, x, mode) for mode in ("last", "rollout")]
    model.eval()
    with minidl.no_grad():
        predicted = model(x).argmax(1).numpy()
    mean, std = config["normalize"]
    images = x.numpy()[:, 0] * std + mean  # back to [0, 1] grey values
    labels = [f"{test.classes[p_]} ({'ok' if p_ == t else test.classes[t]})"
              for p_, t in zip(predicted, y)]
    plot_class_token_attention(images, maps, a.out, labels,
                               titles=("image", "last layer", "rollout"))
    print(f"{a.out}: {a.count} test images of {config['data']}; predicted: "
          f"{', '.join(labels)}")
    return {"maps": maps, "predicted": predicted, "labels": y}


if __name__ == "__main__":
    main()
