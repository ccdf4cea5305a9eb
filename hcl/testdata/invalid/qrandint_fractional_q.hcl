# want: 4: Invalid function argument: Invalid value for "q" parameter: qrandint needs whole numbers; got 2.5
experiment "steps" {
  space {
    batch = qrandint(8, 64, 2.5)
  }
  task "train" {
    command = "python3"
  }
}
