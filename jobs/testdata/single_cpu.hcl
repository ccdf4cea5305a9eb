# One group of one raw_exec task with whole CPUs, and every nomad setting
# a trial job carries.
experiment "quadratic" {
  description = "Minimise a quadratic."
  metric      = "loss"
  mode        = "min"
  seed        = 7

  space {
    x      = uniform(-5, 5)
    layers = grid([2, 3])
    opt    = "adam"
  }

  resources {
    cpu    = 2
    memory = "1GiB"
  }

  task "train" {
    command = "python3"
    args    = ["train.py", "--x=${trial.x}", "--layers=${trial.layers}", "--out=${NOMAD_TASK_DIR}/out"]
    env {
      OMP_NUM_THREADS = "2"
      RUN_NAME        = "run-${trial.id}"
    }
  }

  nomad {
    datacenters = ["dc1", "dc2"]
    node_pool   = "cpu"
    namespace   = "ml"
    region      = "eu"
    priority    = 40
    meta = {
      team = "vision"
    }
    ui_link {
      label = "Dashboard"
      url   = "https://dashboards.example.com/quadratic"
    }
  }
}
