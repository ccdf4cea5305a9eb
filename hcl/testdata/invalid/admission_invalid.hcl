# want: 3: Invalid value for admission: admission must be one of "reserve", "greedy"; got "fifo"
experiment "order" {
  admission = "fifo"
  task "train" {
    command = "python3"
  }
}
