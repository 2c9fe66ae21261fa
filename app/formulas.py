"""The pages' fixed formulas, in LaTeX (rendered to MathML by `app.mathml.tex`)."""

CONV = {
    "definition": (
        r"y_{i,j} = b + \sum_{c}\sum_{u=0}^{k_H-1}\sum_{v=0}^{k_W-1} w_{c,u,v}\;"
        r"x_{c,\; s\,i + d\,u,\; s\,j + d\,v}"
    ),
    "size": r"H_{out} = \left\lfloor \frac{H + 2p - d\,(k-1) - 1}{s} \right\rfloor + 1",
}
