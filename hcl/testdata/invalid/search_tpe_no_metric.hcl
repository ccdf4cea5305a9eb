# want: 3: Search without a metric: search "tpe" learns from each trial's metric: add metric = "loss" and mode = "min" (or the name your trials report).
experiment "s" {
  search "tpe" {}
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
