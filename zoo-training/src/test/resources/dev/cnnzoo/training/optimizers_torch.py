# PyTorch's optimizers on fixed parameters and gradients: three steps at learning rates
# 0.1, 0.05, 0.02. Writes the parameters, gradients and each step's parameters as safetensors.
# Usage: optimizers_torch.py OUT
import torch

torch.manual_seed(0)
p0 = {"a": torch.randn(3, 4), "b": torch.randn(5), "c": torch.randn(4, 3, 1, 1)}
grads = [{k: torch.randn_like(v) for k, v in p0.items()} for _ in range(3)]
rates = [0.1, 0.05, 0.02]

class FixedNAdam(torch.optim.Optimizer):
    """torch.optim.NAdam as PyTorch 2.0 has it. PyTorch 1.13's step computes
    mu_product_next = mu_product * mu * mu_next after mu_product has already taken mu (μ_t counted
    twice); pytorch/pytorch#92699 fixed that to mu_product * mu_next, which is Keras's
    m_schedule_next and Dozat's formula. Otherwise line for line the 1.13 update."""

    def __init__(self, params, lr, betas, eps, momentum_decay):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, momentum_decay=momentum_decay))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                st = self.state[p]
                if not st:
                    st.update(step=0, mu_product=1.0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                st["step"] += 1
                t = st["step"]
                mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * group["momentum_decay"]))
                mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * group["momentum_decay"]))
                st["mu_product"] *= mu
                mu_product_next = st["mu_product"] * mu_next
                st["exp_avg"].mul_(beta1).add_(p.grad, alpha=1 - beta1)
                st["exp_avg_sq"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)
                denom = st["exp_avg_sq"].div(1 - beta2 ** t).sqrt().add_(group["eps"])
                p.addcdiv_(p.grad, denom, value=-group["lr"] * (1.0 - mu) / (1.0 - st["mu_product"]))
                p.addcdiv_(st["exp_avg"], denom, value=-group["lr"] * mu_next / (1.0 - mu_product_next))


configs = {
    "sgd_nesterov": lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
    "adam": lambda ps: torch.optim.Adam(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2),
    "adamw": lambda ps: torch.optim.AdamW(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.05),
    "nadam": lambda ps: FixedNAdam(ps, lr=0.1, betas=(0.9, 0.999), eps=1e-7, momentum_decay=0.004),
}
out = {}
for k, v in p0.items():
    out["p0." + k] = v
for t, g in enumerate(grads):
    for k, v in g.items():
        out["g%d.%s" % (t + 1, k)] = v
for name, make in configs.items():
    params = {k: v.clone().requires_grad_(True) for k, v in p0.items()}
    opt = make(list(params.values()))
    for t in range(3):
        for group in opt.param_groups:
            group["lr"] = rates[t]
        for k, v in params.items():
            v.grad = grads[t][k].clone()
        opt.step()
        for k, v in params.items():
            out["%s.p%d.%s" % (name, t + 1, k)] = v.detach().clone()
save_safetensors(sys.argv[1], out)
print("ok")
