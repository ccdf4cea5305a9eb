# want: 4: Call to unknown function: There is no function named "unifrom". Did you mean "uniform"?
experiment "typo" {
  space {
    x = unifrom(0, 1)
  }
  task "train" {
    command = "python3"
  }
}
