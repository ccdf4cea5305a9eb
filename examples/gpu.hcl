# Trials that use a GPU only when their config asks for one, as Ray Tune's
# with_resources(lambda spec: {"gpu": 1} if spec.config.use_gpu else {}).
# Each GPU trial's CUDA_VISIBLE_DEVICES lists exactly the GPU it was given;
# CPU trials get it empty. GPUs come from NVML, or are declared with
# -local-gpus N on a machine without them:
#
#   tune apply -local-gpus 2 examples/gpu.hcl
#
# wait_for_gpu holds a trial until the GPU it was given is free of the
# previous trial's memory (it needs NVML; declared GPUs are not polled).
experiment "gpu-sweep" {
  metric      = "val_loss"
  mode        = "min"
  num_samples = 3
  seed        = 42

  space {
    lr         = loguniform(1e-4, 1e-1)
    batch_size = choice([64, 128, 256])
    use_gpu    = grid([true, false])
  }

  resources {
    cpu    = 0.5
    memory = trial.batch_size >= 256 ? "1GiB" : "512MiB"
    gpu    = trial.use_gpu ? 1 : 0
  }

  task "train" {
    command = "sh"
    args    = ["gpu.sh", "${trial.lr}", "${trial.batch_size}"]
  }

  wait_for_gpu {
    max_used = 0.01
    timeout  = "100s"
  }

  failure {
    max_failures = 2
  }

  stop {
    trial_timeout = "5m"
    at_most       = { val_loss = 0.01 }
  }

  nomad {
    datacenters = ["dc1"]
    node_pool   = "gpu"
  }
}
