# want: 7: Invalid value for count: The count must be a number; this is bool
experiment "workers" {
  space {
    opt = choice(["adam", "sgd"])
  }
  group "worker" {
    count = trial.opt == "adam"
    task "train" {
      command = "python3"
    }
  }
}
