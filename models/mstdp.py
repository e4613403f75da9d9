"""MSTDP energy network: momentum inference and an STDP-form learning rule.

Reference
---------
MSTDP ("momentum spike-timing dependent plasticity"): an energy-based network in
which every input neuron is also an output neuron, trained by a local rule
dW_ji ~ rho(s_j) x d rho(s_i)/dt (../shared/papers/mstdp-energy-network.txt).
Its energy and leaky-integrator dynamics are those of B. Scellier and Y. Bengio
(2017), Equilibrium propagation, Front. Comput. Neurosci. 11:24
(doi:10.3389/fncom.2017.00024).

Network
-------
Visible neurons (784 image pixels and 10 one-hot label neurons) and hidden neurons
(2048 in the paper; ``--hidden`` sets it). Visible -> hidden, hidden -> visible and
hidden -> hidden are all-to-all with independent (asymmetric) weights; visible
neurons do not connect to each other, and no neuron to itself. Each neuron has a
state s, a velocity v and a bias b; its rate is rho(s) = sigmoid(gain x s).

One simulation time step is one iteration of the paper's inference:

    F_i = rho'(s_i) (sum_j W_ji rho(s_j) + b_i) - s_i + beta clamp_i (data_i - s_i)
    v_i <- momentum x v_i + step_size x F_i
    s_i <- s_i + v_i

(with state_limit > 0, not in the paper, s_i + v_i is clipped to
[-state_limit, state_limit] and v_i becomes the step actually taken).

F is minus the gradient of E + beta C, with
E = 1/2 sum s^2 - 1/2 sum_{i != j} W_ij rho_i rho_j - sum b_i rho_i (exact for
symmetric W) and C = 1/2 sum_clamped (data - s)^2. The equations below write this
as Brian2 differential equations whose explicit Euler step (dt = one iteration)
is exactly the update above.

Phases alternate on their own clock, independently of the data: clamped_iterations
with beta = beta_clamped and momentum_clamped, then free_iterations with beta = 0
and momentum_free. A sample is shown for train_cycles (classify/generate:
test_cycles) clamped/free cycles; s is not reset when the sample changes (except
in generate mode, which starts each sample from a random state as in the paper).

Learning (train mode) at every clamped iteration, for weights and biases:

    dW_ji = learning_rate x rho(s_j) x [rho(s_i) - rho(s_i one iteration earlier)]
    db_i  = bias_learning_rate x [rho(s_i) - rho(s_i one iteration earlier)]

plus, when smoothing_rate > 0, the section 2.7 smoothing term (reconstructed, see
the deviations): with G_i = rho'(s_i) (sum_j W_ji rho(s_j) + b_i) - s_i, the part
of the step ds_i that comes from the energy E,

    dW_ji -= smoothing_rate x rho(s_j) x rho'(s_i) x G_i
    db_i  -= smoothing_rate x rho'(s_i) x G_i

a gradient step that makes |G_i| smaller at the states the network passes through
(all factors taken at the iteration before, like rho(s_j) above).

Two options change which rates multiply the change (neither is in the paper):
rate_point reads the rate that multiplies a change at a point within iteration
k-1 (0 its start, as above; 1 its end; 0.5 the mean), and reverse_term_weight adds
reverse_term_weight x rho(s_i) x [change of rho(s_j)] to dW_ji. With both at
(0.5, 1), dW_ji is the change of rho(s_i) rho(s_j) over the iteration, the same
for W_ji and W_ij (the "symmetric update"), which CHL's clamped-minus-free
product differentiates. A training network uses synapse_eqs_with_options when
either option is on and synapse_eqs (the paper's rule, a quarter faster) when
both are 0; an edit of the rule belongs in the one that is used.

Modes: train (image and label clamped), classify (image clamped; the answer is
the label neuron with the largest s at the end of the last clamped phase),
generate (one-hot label clamped from a random state; the image neurons' s at the
end of the last clamped phase is the generated digit).

This file is parsed, never executed: only ``name = value`` lines with numbers,
Brian2 units and earlier names, and string constants, are allowed. Any parameter
may be changed here or with ``bioplastic train --set name=value``.

Known deviations from the paper
-------------------------------
* The paper does not give the distribution of the random initial state; s is
  drawn from U(state_init_low, state_init_high) = U(0, 1).
* Learning at iteration k uses the change of rho over iteration k-1 (the change
  that has just happened), so it is gated by whether iteration k-1 was clamped;
  that is the paper's "every clamped iteration", shifted by one step so that
  weights and biases see the same change.
* Section 2.7's "smoothing derivative" term lost its formulas in the paper's text
  extraction. The text says: compute the derivative of ds with respect to W and b
  and adjust them to make ds smaller. It is reconstructed here as gradient descent
  on 1/2 G_i^2, with G_i the energy part of ds_i / (step_size dt) (the clamp part
  does not depend on W), applied with the STDP-form rule in clamped iterations.
  It is off by default (smoothing_rate = 0); docs/mstdp.md measures it.
* weight_limit and state_limit (both off by default) are not in the paper: optional
  bounds on the weights and on the states, measured in docs/mstdp.md.
* rate_point and reverse_term_weight (both 0 by default: the paper's rule) are not
  in the paper. The symmetric update (0.5, 1) stops the run-away that the paper's
  rule reaches in long runs, but did not classify better (docs/mstdp.md).
* Iteration counts are parameters: the paper's 10 cycles of 32 + 32 iterations per
  training sample cost 640 iterations of a dense network; see docs/mstdp.md for
  the settings used in the benchmarks.
"""

# --- simulation -------------------------------------------------------------------
dt = 1*ms                        # one inference iteration (a time step; no physiological meaning)
integration_method = 'euler'     # the explicit Euler step is the paper's discrete update

# --- network ---------------------------------------------------------------------
gain = 4                         # rho(s) = sigmoid(gain x s) ("sigmoid4")
state_init_low = 0               # initial s ~ U(low, high) (not given in the paper)
state_init_high = 1              # upper end of the initial state
w_init_max = 0.1                 # initial weights ~ U(-w_init_max, w_init_max)
b_init_max = 0.1                 # initial biases ~ U(-b_init_max, b_init_max)

# --- inference -------------------------------------------------------------------
step_size = 0.2                  # epsilon: step of s down the energy (both phases)
beta_clamped = 0.8               # pressure towards the data in clamped phases
momentum_clamped = 0.4           # inertia m of the velocity in clamped phases
momentum_free = 0                # inertia m in free phases (beta = 0 there)
clamped_iterations = 32          # iterations of one clamped phase
free_iterations = 32             # iterations of one free phase
train_cycles = 10                # clamped/free cycles per training sample
test_cycles = 3                  # cycles per sample when classifying or generating

# --- learning --------------------------------------------------------------------
learning_rate = 0.001            # alpha of the weight rule (the paper's; docs/mstdp.md: it runs away in long runs)
bias_learning_rate = 0.001       # alpha of the bias rule
weight_limit = 0                 # clip |W| to this at each training sample's start (0: no clip, as in the paper)
smoothing_rate = 0               # rate of section 2.7's smoothing term (reconstructed; 0: off)
state_limit = 0                  # keep every s within [-state_limit, state_limit] (0: no bound, as in the paper)
rate_point = 0                   # where in iteration k-1 the rule reads the rate that multiplies a change: 0 its start, 1 its end, 0.5 the mean
reverse_term_weight = 0          # weight of rho(s_i) x change of rho(s_j) in dW_ji (0: the paper's rule; 1 with rate_point 0.5: dW_ji = change of rho_i rho_j)

# --- equations -------------------------------------------------------------------
# The builder adds: clamp (1 where this mode clamps the neuron), data (the value it
# is pulled to), drive (sum_j W_ji rho_j, summed over the incoming synapses) and
# learning_on (1 in train mode).
# learning is 1 in an iteration that follows a clamped one (the rule uses the change
# of rho over that iteration). It is stored, not a subexpression, because brian2genn
# allows no subexpressions in synaptic code: each Euler step sets it for the next
# iteration, and the builder sets it at a sample's first iteration.
phase_eqs = '''
iteration = floor(t / dt + 0.5) : 1                        # index of this iteration
cycle_iterations = clamped_iterations + free_iterations : 1
clamped = int(iteration - cycle_iterations * floor(iteration / cycle_iterations) < clamped_iterations) : 1
dlearning/dt = (learning_on * clamped - learning) / dt : 1  # learn in this iteration (1) or not (0)
'''

# rho and rho_before are stored, not recomputed by every synapse: their Euler step
# sets them to rho(s) after this iteration and to rho(s) before it.
# smoothing_signal starts each chunk at 0; a sample's first iteration learns only
# without free phases, so it matters only then (at a chunk's first iteration).
neuron_eqs = '''
ds/dt = step / dt : 1
dv/dt = (step - v) / dt : 1                               # v is the step just taken
db/dt = learning * (bias_learning_rate * (rho - rho_before) - smoothing_rate * smoothing_signal) / dt : 1
drho/dt = (1 / (1 + exp(-gain * (s + step))) - rho) / dt : 1  # firing rate rho(s)
drho_before/dt = (rho - rho_before) / dt : 1              # rho one iteration earlier
force = energy_force + beta * clamp * (data - s) : 1
energy_force = gain * rho * (1 - rho) * (drive + b) - s : 1  # -dE/ds, the network's own pull
dsmoothing_signal/dt = (gain * rho * (1 - rho) * energy_force - smoothing_signal) / dt : 1  # rho'(s) x energy_force, one iteration earlier
step = momentum_step + int(state_limit > 0) * (clip(s + momentum_step, -state_limit, state_limit) - s - momentum_step) : 1  # change of s in this iteration
momentum_step = momentum * v + step_size * force : 1      # the paper's step, before any bound
momentum = clamped * momentum_clamped + (1 - clamped) * momentum_free : 1
beta = clamped * beta_clamped : 1
'''

# The weight rule, written out because brian2genn allows no subexpressions in
# synaptic code: learning_rate x rho_j x (change of rho_i), rho_j read before the
# iteration's step, minus the smoothing term.
synapse_eqs = '''
dw/dt = learning_post * rho_before_pre * (learning_rate * (rho_post - rho_before_post) - smoothing_rate * smoothing_signal_post) / dt : 1 (clock-driven)
'''

# Used instead of synapse_eqs when rate_point or reverse_term_weight is not 0 (the
# same rule when both are 0, without their per-synapse arithmetic, which costs a
# quarter of a training step): learning_rate x [rho_j x (change of rho_i) +
# reverse_term_weight x rho_i x (change of rho_j)], each rate read at rate_point
# within iteration k-1, minus the smoothing term.
synapse_eqs_with_options = '''
dw/dt = learning_post * (learning_rate * ((rho_before_pre + rate_point * (rho_pre - rho_before_pre)) * (rho_post - rho_before_post) + reverse_term_weight * (rho_before_post + rate_point * (rho_post - rho_before_post)) * (rho_pre - rho_before_pre)) - smoothing_rate * rho_before_pre * smoothing_signal_post) / dt : 1 (clock-driven)
'''

# --- sample start ----------------------------------------------------------------
# Train mode with weight_limit > 0 only (not in the paper): bounds the weights,
# which otherwise grow until the dynamics run away (docs/mstdp.md).
synapse_sample_start = '''
w = clip(w, -weight_limit, weight_limit)
'''
generate_sample_start = '''
s = state_init_low + (state_init_high - state_init_low) * rand()
v = 0
rho = 1 / (1 + exp(-gain * s))
rho_before = rho
'''
