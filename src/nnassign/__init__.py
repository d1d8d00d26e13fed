"""nnassign: the tooling behind the "neural network from scratch" assignment.

Data flows through one module per stage:
    data (nn_data, data) -> solution notebook -> release -> student -> submission -> grade -> report
"""

__version__ = "0.1.0"
