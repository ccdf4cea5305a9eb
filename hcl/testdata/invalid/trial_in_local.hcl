# want: 3: Trial values are not available here: This is a local value, and locals are the same for every trial
locals {
  args = ["--x=${trial.x}"]
}
experiment "locals" {
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "python3"
    args    = local.args
  }
}
