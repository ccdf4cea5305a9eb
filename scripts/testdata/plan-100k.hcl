# 100,000 trials: 100 grid points × 1,000 samples, with resources that
# depend on the trial so every trial's shape is evaluated.
experiment "plan-100k" {
  metric      = "loss"
  mode        = "min"
  num_samples = 1000
  seed        = 1

  space {
    lr     = loguniform(1e-5, 1e-1)
    layers = grid([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    width  = grid([64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768])
    opt    = choice(["adam", "sgd", "rmsprop"])
    drop   = quniform(0, 0.5, 0.05)
  }

  resources {
    cpu    = trial.layers > 5 ? 1 : 0.5
    memory = trial.width >= 8192 ? "2GiB" : "512MiB"
    gpu    = trial.opt == "adam" ? 1 : 0
  }

  task "train" {
    command = "python3"
    args    = ["train.py", "--lr=${trial.lr}", "--layers=${trial.layers}", "--width=${trial.width}"]
  }
}
