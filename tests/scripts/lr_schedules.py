"""Log the learning rate of common schedules epoch by epoch."""
import torch
from torch import nn
from torch.optim import lr_scheduler

model = nn.Linear(3, 1)


def trace(make, epochs=8, **opt_kw):
    opt = torch.optim.SGD(model.parameters(), lr=0.1, **opt_kw)
    sched = make(opt)
    lrs = []
    for _ in range(epochs):
        opt.step()
        sched.step()
        lrs.append(f"{opt.param_groups[0]['lr']:.5f}")
    return " ".join(lrs)


print("step     ", trace(lambda o: lr_scheduler.StepLR(o, step_size=3, gamma=0.5)))
print("multistep", trace(lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, 5], gamma=0.1)))
print("exp      ", trace(lambda o: lr_scheduler.ExponentialLR(o, gamma=0.9)))
print("cosine   ", trace(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.001)))
print("lambda   ", trace(lambda o: lr_scheduler.LambdaLR(o, lambda e: 1 / (1 + 0.5 * e))))
print("onecycle ", trace(lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.5, total_steps=8),
                         momentum=0.9))
print("linear   ", trace(lambda o: lr_scheduler.LinearLR(o, start_factor=0.25, total_iters=4)))
print("warm+cos ", trace(lambda o: lr_scheduler.SequentialLR(
    o, [lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=3),
        lr_scheduler.CosineAnnealingLR(o, T_max=5)], milestones=[3])))

opt = torch.optim.SGD(model.parameters(), lr=0.1)
plateau = lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=1)
for epoch, val_loss in enumerate([1.0, 0.9, 0.95, 0.97, 0.96, 0.8, 0.85, 0.86]):
    plateau.step(val_loss)
    print(f"epoch {epoch} val_loss {val_loss:.2f} lr {opt.param_groups[0]['lr']:.4f}")
sched = lr_scheduler.StepLR(opt, 2)
print(sched.state_dict()["step_size"], sched.get_last_lr())
