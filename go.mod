module github.com/sgcnn/sgcnn

go 1.26
