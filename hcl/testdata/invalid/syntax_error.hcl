# want: 4: Invalid expression: Expected the start of an expression
experiment "broken" {
  space {
    x = 
  }
  task "train" {
    command = "python3"
  }
}
