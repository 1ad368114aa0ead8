from salbox.serve import main

main()
