# want: 3: Grid search without a grid: search "grid" expands grid() parameters, and the space has none
experiment "s" {
  search "grid" {}
  space {
    x = uniform(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
