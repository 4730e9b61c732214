"""``ImageList``: a batch of images padded to one tensor, with each image's own size
(torchvision's ``models.detection.image_list``)."""
from ....ops._util import check_tensor

__all__ = ["ImageList"]


class ImageList:
    """Images padded to one tensor ``tensors`` (N, C, H, W) and ``image_sizes``, the
    (height, width) of each image before padding."""

    def __init__(self, tensors, image_sizes):
        check_tensor(tensors, "ImageList", "tensors")
        if tensors.ndim == 4 and len(image_sizes) != tensors.shape[0]:
            raise ValueError(f"ImageList(): {len(image_sizes)} image_sizes for a batch of "
                             f"{tensors.shape[0]} images")
        self.tensors = tensors
        self.image_sizes = image_sizes

    def to(self, device):
        return ImageList(self.tensors.to(device), self.image_sizes)
