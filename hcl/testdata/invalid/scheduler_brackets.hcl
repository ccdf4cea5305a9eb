# want: 7: Invalid asha scheduler: brackets = 3 needs as many rungs, but grace_period 1, max_t 10 and reduction_factor 4 make 2; use at most brackets = 2
experiment "s" {
  metric = "loss"
  mode   = "min"
  scheduler "asha" {
    max_t    = 10
    brackets = 3
  }
  task "t" {
    command = "true"
  }
}
