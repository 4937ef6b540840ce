# nextpnr-ice40 --post-route script: writes the routed design's timing graph for fpga/ice40/sta.py (docs/fpga.md).
#   FAQ_NET_DELAYS=OUT.json nextpnr-ice40 ... --post-route fpga/ice40/net_delays.py
# OUT.json: {"chip", "cells": {name: {"type", "params"}}, "nets": [{"driver": [cell, port], "users": [[cell, port, ns]]}]},
# each user's delay the sum of the routed pips' delays from the driver to that pin, as nextpnr's own timing
# analysis counts a route; a user with no wire of its own (a package pin) has none.
import json
import os

PARAMS = ("DFF_ENABLE", "LUT_INIT", "CARRY_ENABLE", "A_REG", "B_REG", "C_REG", "D_REG", "TOPOUTPUT_SELECT", "BOTOUTPUT_SELECT",
          "PIPELINE_16x16_MULT_REG1", "PIPELINE_16x16_MULT_REG2", "TOP_8x8_MULT_REG", "BOT_8x8_MULT_REG", "MODE_8x8")


def route_ns(net, user):
    wire = ctx.getBelPinWire(user.cell.bel, user.port)
    if wire is None:
        return None
    total, hops = 0.0, 0
    while True:
        pip = net.wires[wire].pip
        if pip is None:
            return total
        total += ctx.getDelayNS(ctx.getPipDelay(pip).maxDelay())
        wire = ctx.getPipSrcWire(pip)
        hops += 1
        if hops > 10000:
            raise RuntimeError(f"net {net.name}: the route to {user.cell.name}.{user.port} does not end")


cells = {}
for name, cell in ctx.cells:
    params = {}
    for key in PARAMS:
        try:
            params[key] = str(cell.params[key])
        except (KeyError, IndexError):
            pass
    cells[name] = {"type": cell.type, "params": params}
nets = []
for name, net in ctx.nets:
    if net.driver.cell is None or name in ("$PACKER_VCC_NET", "$PACKER_GND_NET"):
        continue  # no driver, or a constant (driven by a logic cell whose LUT ignores its inputs)
    users = []
    for user in net.users:
        ns = route_ns(net, user)
        if ns is not None:
            users.append([user.cell.name, user.port, round(ns, 4)])
    nets.append({"net": name, "driver": [net.driver.cell.name, net.driver.port], "users": users})
with open(os.environ["FAQ_NET_DELAYS"], "w") as f:
    json.dump({"chip": ctx.getChipName(), "cells": cells, "nets": nets}, f)
