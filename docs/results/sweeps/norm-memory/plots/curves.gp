set terminal pngcairo noenhanced font 'sans,10' size 1527,1548
set grid
set key outside right top
set output 'curves.png'
set xtics 1
set multiplot layout 1,3 title 'Training curves per run' margins 0.06,0.799,0.039,0.948 spacing 0.07,0.12
set xlabel 'epoch'
set key off
set title "test accuracy [%]"
set ylabel "test accuracy [%]"
plot 'curves.dat' index 0 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=0", \
     'curves.dat' index 1 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=1", \
     'curves.dat' index 2 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=0", \
     'curves.dat' index 3 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=1", \
     'curves.dat' index 4 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=0", \
     'curves.dat' index 5 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=1", \
     'curves.dat' index 6 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=0", \
     'curves.dat' index 7 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=1", \
     'curves.dat' index 8 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=0", \
     'curves.dat' index 9 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=1", \
     'curves.dat' index 10 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=0", \
     'curves.dat' index 11 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=1", \
     'curves.dat' index 12 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=0", \
     'curves.dat' index 13 using 1:2 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=1", \
     'curves.dat' index 14 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=0", \
     'curves.dat' index 15 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=1", \
     'curves.dat' index 16 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=0", \
     'curves.dat' index 17 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=1", \
     'curves.dat' index 18 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=0", \
     'curves.dat' index 19 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=1", \
     'curves.dat' index 20 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=0", \
     'curves.dat' index 21 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=1", \
     'curves.dat' index 22 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=0", \
     'curves.dat' index 23 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=1", \
     'curves.dat' index 24 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=0", \
     'curves.dat' index 25 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=1", \
     'curves.dat' index 26 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=0", \
     'curves.dat' index 27 using 1:2 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=1", \
     'curves.dat' index 28 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=0", \
     'curves.dat' index 29 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=1", \
     'curves.dat' index 30 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=0", \
     'curves.dat' index 31 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=1", \
     'curves.dat' index 32 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=0", \
     'curves.dat' index 33 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=1", \
     'curves.dat' index 34 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=0", \
     'curves.dat' index 35 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=1", \
     'curves.dat' index 36 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=0", \
     'curves.dat' index 37 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=1", \
     'curves.dat' index 38 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=0", \
     'curves.dat' index 39 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=1", \
     'curves.dat' index 40 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=0", \
     'curves.dat' index 41 using 1:2 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=1", \
     'curves.dat' index 42 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=0", \
     'curves.dat' index 43 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=1", \
     'curves.dat' index 44 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=0", \
     'curves.dat' index 45 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=1", \
     'curves.dat' index 46 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=0", \
     'curves.dat' index 47 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=1", \
     'curves.dat' index 48 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=0", \
     'curves.dat' index 49 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=1", \
     'curves.dat' index 50 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=0", \
     'curves.dat' index 51 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=1", \
     'curves.dat' index 52 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=0", \
     'curves.dat' index 53 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=1", \
     'curves.dat' index 54 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=0", \
     'curves.dat' index 55 using 1:2 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=1", \
     'curves.dat' index 56 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=0", \
     'curves.dat' index 57 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=1", \
     'curves.dat' index 58 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=0", \
     'curves.dat' index 59 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=1", \
     'curves.dat' index 60 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=0", \
     'curves.dat' index 61 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=1", \
     'curves.dat' index 62 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=0", \
     'curves.dat' index 63 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=1", \
     'curves.dat' index 64 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=0", \
     'curves.dat' index 65 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=1", \
     'curves.dat' index 66 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=0", \
     'curves.dat' index 67 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=1", \
     'curves.dat' index 68 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=0", \
     'curves.dat' index 69 using 1:2 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=1", \
     'curves.dat' index 70 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=0", \
     'curves.dat' index 71 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=1", \
     'curves.dat' index 72 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=0", \
     'curves.dat' index 73 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=1", \
     'curves.dat' index 74 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=0", \
     'curves.dat' index 75 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=1", \
     'curves.dat' index 76 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=0", \
     'curves.dat' index 77 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=1", \
     'curves.dat' index 78 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=0", \
     'curves.dat' index 79 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=1", \
     'curves.dat' index 80 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=0", \
     'curves.dat' index 81 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=1", \
     'curves.dat' index 82 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=0", \
     'curves.dat' index 83 using 1:2 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=1"
set title "training loss (Eq. 9)"
set ylabel "training loss (Eq. 9)"
plot 'curves.dat' index 0 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=0", \
     'curves.dat' index 1 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=1", \
     'curves.dat' index 2 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=0", \
     'curves.dat' index 3 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=1", \
     'curves.dat' index 4 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=0", \
     'curves.dat' index 5 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=1", \
     'curves.dat' index 6 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=0", \
     'curves.dat' index 7 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=1", \
     'curves.dat' index 8 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=0", \
     'curves.dat' index 9 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=1", \
     'curves.dat' index 10 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=0", \
     'curves.dat' index 11 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=1", \
     'curves.dat' index 12 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=0", \
     'curves.dat' index 13 using 1:3 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=1", \
     'curves.dat' index 14 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=0", \
     'curves.dat' index 15 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=1", \
     'curves.dat' index 16 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=0", \
     'curves.dat' index 17 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=1", \
     'curves.dat' index 18 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=0", \
     'curves.dat' index 19 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=1", \
     'curves.dat' index 20 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=0", \
     'curves.dat' index 21 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=1", \
     'curves.dat' index 22 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=0", \
     'curves.dat' index 23 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=1", \
     'curves.dat' index 24 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=0", \
     'curves.dat' index 25 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=1", \
     'curves.dat' index 26 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=0", \
     'curves.dat' index 27 using 1:3 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=1", \
     'curves.dat' index 28 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=0", \
     'curves.dat' index 29 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=1", \
     'curves.dat' index 30 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=0", \
     'curves.dat' index 31 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=1", \
     'curves.dat' index 32 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=0", \
     'curves.dat' index 33 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=1", \
     'curves.dat' index 34 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=0", \
     'curves.dat' index 35 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=1", \
     'curves.dat' index 36 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=0", \
     'curves.dat' index 37 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=1", \
     'curves.dat' index 38 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=0", \
     'curves.dat' index 39 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=1", \
     'curves.dat' index 40 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=0", \
     'curves.dat' index 41 using 1:3 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=1", \
     'curves.dat' index 42 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=0", \
     'curves.dat' index 43 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=1", \
     'curves.dat' index 44 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=0", \
     'curves.dat' index 45 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=1", \
     'curves.dat' index 46 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=0", \
     'curves.dat' index 47 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=1", \
     'curves.dat' index 48 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=0", \
     'curves.dat' index 49 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=1", \
     'curves.dat' index 50 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=0", \
     'curves.dat' index 51 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=1", \
     'curves.dat' index 52 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=0", \
     'curves.dat' index 53 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=1", \
     'curves.dat' index 54 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=0", \
     'curves.dat' index 55 using 1:3 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=1", \
     'curves.dat' index 56 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=0", \
     'curves.dat' index 57 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=1", \
     'curves.dat' index 58 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=0", \
     'curves.dat' index 59 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=1", \
     'curves.dat' index 60 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=0", \
     'curves.dat' index 61 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=1", \
     'curves.dat' index 62 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=0", \
     'curves.dat' index 63 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=1", \
     'curves.dat' index 64 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=0", \
     'curves.dat' index 65 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=1", \
     'curves.dat' index 66 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=0", \
     'curves.dat' index 67 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=1", \
     'curves.dat' index 68 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=0", \
     'curves.dat' index 69 using 1:3 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=1", \
     'curves.dat' index 70 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=0", \
     'curves.dat' index 71 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=1", \
     'curves.dat' index 72 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=0", \
     'curves.dat' index 73 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=1", \
     'curves.dat' index 74 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=0", \
     'curves.dat' index 75 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=1", \
     'curves.dat' index 76 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=0", \
     'curves.dat' index 77 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=1", \
     'curves.dat' index 78 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=0", \
     'curves.dat' index 79 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=1", \
     'curves.dat' index 80 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=0", \
     'curves.dat' index 81 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=1", \
     'curves.dat' index 82 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=0", \
     'curves.dat' index 83 using 1:3 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=1"
set title "test loss (Eq. 9)"
set ylabel "test loss (Eq. 9)"
set key at screen 0.995,0.948 right top
plot 'curves.dat' index 0 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=0", \
     'curves.dat' index 1 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=128 seed=1", \
     'curves.dat' index 2 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=0", \
     'curves.dat' index 3 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=16 seed=1", \
     'curves.dat' index 4 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=0", \
     'curves.dat' index 5 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=256 seed=1", \
     'curves.dat' index 6 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=0", \
     'curves.dat' index 7 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=32 seed=1", \
     'curves.dat' index 8 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=0", \
     'curves.dat' index 9 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=512 seed=1", \
     'curves.dat' index 10 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=0", \
     'curves.dat' index 11 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=64 seed=1", \
     'curves.dat' index 12 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=0", \
     'curves.dat' index 13 using 1:4 with linespoints pointsize 0.6 title "bn no WS batch size=8 seed=1", \
     'curves.dat' index 14 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=0", \
     'curves.dat' index 15 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=128 seed=1", \
     'curves.dat' index 16 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=0", \
     'curves.dat' index 17 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=16 seed=1", \
     'curves.dat' index 18 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=0", \
     'curves.dat' index 19 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=256 seed=1", \
     'curves.dat' index 20 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=0", \
     'curves.dat' index 21 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=32 seed=1", \
     'curves.dat' index 22 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=0", \
     'curves.dat' index 23 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=512 seed=1", \
     'curves.dat' index 24 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=0", \
     'curves.dat' index 25 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=64 seed=1", \
     'curves.dat' index 26 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=0", \
     'curves.dat' index 27 using 1:4 with linespoints pointsize 0.6 title "bn WS batch size=8 seed=1", \
     'curves.dat' index 28 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=0", \
     'curves.dat' index 29 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=128 seed=1", \
     'curves.dat' index 30 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=0", \
     'curves.dat' index 31 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=16 seed=1", \
     'curves.dat' index 32 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=0", \
     'curves.dat' index 33 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=256 seed=1", \
     'curves.dat' index 34 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=0", \
     'curves.dat' index 35 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=32 seed=1", \
     'curves.dat' index 36 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=0", \
     'curves.dat' index 37 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=512 seed=1", \
     'curves.dat' index 38 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=0", \
     'curves.dat' index 39 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=64 seed=1", \
     'curves.dat' index 40 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=0", \
     'curves.dat' index 41 using 1:4 with linespoints pointsize 0.6 title "lbn no WS batch size=8 seed=1", \
     'curves.dat' index 42 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=0", \
     'curves.dat' index 43 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=128 seed=1", \
     'curves.dat' index 44 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=0", \
     'curves.dat' index 45 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=16 seed=1", \
     'curves.dat' index 46 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=0", \
     'curves.dat' index 47 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=256 seed=1", \
     'curves.dat' index 48 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=0", \
     'curves.dat' index 49 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=32 seed=1", \
     'curves.dat' index 50 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=0", \
     'curves.dat' index 51 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=512 seed=1", \
     'curves.dat' index 52 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=0", \
     'curves.dat' index 53 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=64 seed=1", \
     'curves.dat' index 54 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=0", \
     'curves.dat' index 55 using 1:4 with linespoints pointsize 0.6 title "lbn WS batch size=8 seed=1", \
     'curves.dat' index 56 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=0", \
     'curves.dat' index 57 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=128 seed=1", \
     'curves.dat' index 58 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=0", \
     'curves.dat' index 59 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=16 seed=1", \
     'curves.dat' index 60 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=0", \
     'curves.dat' index 61 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=256 seed=1", \
     'curves.dat' index 62 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=0", \
     'curves.dat' index 63 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=32 seed=1", \
     'curves.dat' index 64 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=0", \
     'curves.dat' index 65 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=512 seed=1", \
     'curves.dat' index 66 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=0", \
     'curves.dat' index 67 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=64 seed=1", \
     'curves.dat' index 68 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=0", \
     'curves.dat' index 69 using 1:4 with linespoints pointsize 0.6 title "ln no WS batch size=8 seed=1", \
     'curves.dat' index 70 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=0", \
     'curves.dat' index 71 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=128 seed=1", \
     'curves.dat' index 72 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=0", \
     'curves.dat' index 73 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=16 seed=1", \
     'curves.dat' index 74 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=0", \
     'curves.dat' index 75 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=256 seed=1", \
     'curves.dat' index 76 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=0", \
     'curves.dat' index 77 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=32 seed=1", \
     'curves.dat' index 78 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=0", \
     'curves.dat' index 79 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=512 seed=1", \
     'curves.dat' index 80 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=0", \
     'curves.dat' index 81 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=64 seed=1", \
     'curves.dat' index 82 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=0", \
     'curves.dat' index 83 using 1:4 with linespoints pointsize 0.6 title "ln WS batch size=8 seed=1"
unset multiplot
