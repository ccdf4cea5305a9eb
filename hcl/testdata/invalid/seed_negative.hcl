# want: 3: Invalid value for seed: seed must be at least 0; got -1
experiment "seeded" {
  seed = -1
  task "train" {
    command = "python3"
  }
}
