# want: 3: Open-ended experiment that never ends: num_samples = -1 keeps starting trials until something ends the run: add stop { time_budget = "2h" } or stop { max_trials = 500 }
experiment "forever" {
  num_samples = -1
  task "t" {
    command = "true"
  }
}
